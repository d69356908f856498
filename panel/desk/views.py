"""What the desk's pages show, already worded, so the templates only lay it out (like
render.Page). Every string here is untrusted data to the templates, which escape it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from panel.editorial.render import Page, build_page, clean, panel_line
from panel.grounding import ground
from panel.records import CHANGE_LABELS, Change, Claim, Comparison, ReviewEntry, ToolPanel, panels_of

from .jury import JuryView, jury_views

STATUSES = {"draft": "draft", "published": "published", "edited-since-published": "edited since publishing"}
FLAGS = {
    "failed": "failed review",
    "split": "split jury",
    "conflict": "judge of the tool's vendor",
    "contradicted": "contradicted claim",
    "unsupported": "unchecked claim",
    "copies-example": "copies the example",
    "degenerate": "degenerate text",
    "verdict-disagrees": "verdict disagrees",
    "hand-edited": "edited outside panel",
    "stale": "stale: sources changed",
}
KINDS = {"comparison": "comparisons", "panel": "panels"}
SORTS = {"-changed": "newest change first", "changed": "oldest change first"}
NOTICES = {
    "saved": "Saved. The record's revision went up by one and the history says who changed what.",
    "unchanged": "Nothing to save: every field is as it was.",
    "published": "Published. The public page and record were written under outputs/published/.",
    "published-unchanged": "Already published: the published copy has the same content.",
    "checked": "Claim marked as checked.",
    "voted": "Community votes saved.",
    "taken": "It is yours: the queue shows it under your name until you hand it back or go quiet.",
    "handed-back": "Handed back: nobody has it now.",
    "assigned": "Assigned.",
    "requested": "Sent for approval: a publisher sees it under Awaiting approval.",
    "sent-back": "Sent back with your note, to the reviewer who asked.",
    "second-review": "Your verdicts are saved; the first review is shown beside them below.",
    "adopted": "Adopted the jury member's paragraph as the review's text; the history says whose it was.",
}


def when(at: datetime | str | None) -> str:
    if at is None:
        return "—"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------------------------------------
# Word diff: difflib over words; the template marks the parts up with <ins> and <del>.


@dataclass(frozen=True)
class Segment:
    op: str  # "same", "ins" or "del"
    text: str


def word_diff(before: str, after: str) -> list[Segment]:
    """The changes from `before` to `after`, word by word (whitespace kept with the words)."""
    a, b = re.findall(r"\s*\S+", before), re.findall(r"\s*\S+", after)
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(Segment("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Segment("del", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(Segment("ins", "".join(b[j1:j2])))
    return out


# ---------------------------------------------------------------------------------------------
# A record


def field_name(tool_index: int, persona: str, key: str) -> str:
    """A review field's form name; also the key of its problems (editing.EditProblems)."""
    return f"tools[{tool_index}].reviews.{persona}.{key}"


@dataclass(frozen=True)
class ChangeView:
    at: str
    by: str
    action: str
    fields: str
    note: str


def change_view(change: Change) -> ChangeView:
    return ChangeView(
        at=when(change.at),
        by=clean(change.by),
        action=CHANGE_LABELS.get(change.action, change.action),
        fields=clean(", ".join(change.fields)),
        note=clean(change.note),
    )


@dataclass(frozen=True)
class ClaimView:
    text: str
    kind: str
    status: str
    evidence: str
    checked: str
    check_value: str  # the button's value: which claim to mark
    note_name: str


@dataclass(frozen=True)
class Theirs:
    """In a conflict: what another save put in a field the reviewer changed too."""

    label: str
    diff: list[Segment]


@dataclass(frozen=True)
class EditorView:
    tool: str
    persona: str
    threshold: int
    names: dict[str, str]  # score, verdict, review -> form field name
    values: dict[str, str]
    problems: dict[str, str]  # score, verdict, review, "" -> message
    original: str  # "Model's draft: 72/100 · ship"
    diff: list[Segment]
    edited: bool
    claims: list[ClaimView]
    claims_line: str
    claim_problems: list[str]  # what validation says about this review's claims
    claims_open: bool  # a claim needs a person: show the list unfolded
    quality: list[str]
    theirs: dict[str, Theirs]
    history: list[ChangeView]


def _claim_view(claim: Claim, i: int, persona: str, k: int) -> ClaimView:
    evidence = ""
    if claim.evidence is not None:
        evidence = f"{claim.evidence.origin()} ({claim.evidence.id}): {claim.evidence.sentence}"
    checked = ""
    if claim.checked is not None:
        c = claim.checked
        checked = f"Checked by {c.by}, {when(c.at)}" + (f": {c.note}" if c.note else "")
    return ClaimView(
        text=clean(claim.text),
        kind=claim.kind,
        status=claim.status,
        evidence=clean(evidence),
        checked=clean(checked),
        check_value=f"{i}/{persona}/{k}",
        note_name=f"note.{i}.{persona}.{k}",
    )


def _touches(change: Change, prefix: str, persona: str) -> bool:
    return any(f.startswith(f"{prefix}reviews.{persona}.") for f in change.fields) or (
        change.action == "checked" and any(f == f"{prefix}reviews.{persona}.claims" for f in change.fields)
    )


def editor_view(
    record: ToolPanel | Comparison,
    i: int,
    entry: ReviewEntry,
    values: Mapping[str, str],
    problems: Mapping[str, str],
    theirs: Mapping[str, Theirs],
) -> EditorView:
    panel = panels_of(record)[i]
    prefix = f"{panel.tool.name}: " if isinstance(record, Comparison) else ""
    names = {key: field_name(i, entry.persona, key) for key in ("score", "verdict", "review")}
    # Control characters cannot round-trip through an HTML form: they show (and save) as spaces.
    shown = {key: values.get(names[key], clean(getattr(entry, key))) for key in names}
    draft = entry.original or entry
    counts = ground.counts(entry.claims)
    return EditorView(
        tool=clean(panel.tool.name),
        persona=entry.persona,
        threshold=entry.provenance.ship_threshold,
        names=names,
        values=shown,
        problems={key: problems[name] for key, name in names.items() if name in problems}
        | ({"": problems[p]} if (p := f"tools[{i}].reviews.{entry.persona}") in problems else {}),
        original=f"Model's draft: {draft.score}/100 · {draft.verdict}",
        diff=word_diff(clean(draft.review), clean(shown["review"])),
        edited=entry.edited,
        claims=[_claim_view(c, i, entry.persona, k) for k, c in enumerate(entry.claims)],
        claims_line=counts.line(),
        claims_open=bool(counts.open_contradicted or counts.open_unsupported),
        claim_problems=[
            v for k, v in problems.items() if k.startswith(f"tools[{i}].reviews.{entry.persona}.claims[")
        ],
        quality=[clean(f"{q.kind}: {q.detail}") for q in entry.quality],
        theirs=dict(theirs),
        history=[change_view(c) for c in record.history if _touches(c, prefix, entry.persona)],
    )


@dataclass(frozen=True)
class VoteView:
    index: int
    tool: str
    panel: str
    community: str
    ship_name: str
    skip_name: str
    ship: str
    skip: str


def vote_views(record: Comparison, values: Mapping[str, str]) -> list[VoteView]:
    """Community votes beside each tool's panel verdict; the votes never change the decision."""
    out = []
    for i, panel in enumerate(record.panels):
        votes = record.community.get(panel.tool.name)
        ship, skip = (votes.ship, votes.skip) if votes else (0, 0)
        out.append(
            VoteView(
                index=i,
                tool=clean(panel.tool.name),
                panel=panel_line(panel),
                community=f"{ship} ship / {skip} skip" if ship + skip else "No community votes yet",
                ship_name=f"votes.{i}.ship",
                skip_name=f"votes.{i}.skip",
                ship=values.get(f"votes.{i}.ship", str(ship)),
                skip=values.get(f"votes.{i}.skip", str(skip)),
            )
        )
    return out


@dataclass
class RecordView:
    id: str
    title: str
    kind: str
    status: str
    status_label: str
    revision: int
    version: str
    opened: str  # the record's updated_at when this page was made: the conflict view's "since"
    where: str
    hand_edited: bool
    read_only: bool
    page: Page
    editors: dict[tuple[int, str], EditorView]
    votes: list[VoteView]
    history: list[ChangeView]
    problems: list[str] = field(default_factory=list)  # those that belong to no field
    notice: str = ""
    error: str = ""
    conflict: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # publishing's: unchecked claims
    juries: dict[tuple[int, str], JuryView] = field(default_factory=dict)  # jury reviews' members


def record_view(
    rid: str,
    record: ToolPanel | Comparison,
    *,
    version: str,
    where: str,
    hand_edited: bool,
    names: Mapping[str, str],
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    theirs: Mapping[tuple[int, str], Mapping[str, Theirs]] | None = None,
    status: str | None = None,
) -> RecordView:
    """The record page: the published layout with an editor in each review's place. `status` is
    the index's ("edited-since-published" compares the draft with its published copy)."""
    status = status or record.status
    values, problems, theirs = values or {}, problems or {}, theirs or {}
    panels = panels_of(record)
    editors = {
        (i, entry.persona): editor_view(
            record, i, entry, values, problems, theirs.get((i, entry.persona), {})
        )
        for i, panel in enumerate(panels)
        for entry in panel.reviews
    }
    claimed = {e.names[k] for e in editors.values() for k in e.names} | {
        f"tools[{i}].reviews.{p}" for i, p in editors
    }
    claimed |= {
        k for k in problems if any(k.startswith(f"tools[{i}].reviews.{p}.claims[") for i, p in editors)
    }
    return RecordView(
        id=rid,
        title=clean(record.title if isinstance(record, Comparison) else record.tool.name),
        kind=record.kind,
        status=status,
        status_label=STATUSES.get(status, status),
        revision=record.revision,
        version=version,
        opened=record.updated_at.isoformat(),
        where=clean(where),
        hand_edited=hand_edited,
        read_only=record.status == "published",
        page=build_page(record, dict(names)),
        editors=editors,
        votes=vote_views(record, values) if isinstance(record, Comparison) else [],
        history=[change_view(c) for c in reversed(record.history)],
        problems=[f"{k}: {v}" for k, v in problems.items() if k not in claimed],
        juries=jury_views(record),
    )
