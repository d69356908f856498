"""What the pages show about the team, already worded: who has a draft and since when (the soft
lock), the approval request and what a publisher approves (each changed review against the
model's draft, with its claims), the verdicts each reviewer gave, the blind second review, and
which buttons this person may use. The server checks every action again (panel/desk/posts.py);
these only decide what is offered."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from panel.editorial.render import clean
from panel.grounding import ground
from panel.records import Comparison, ReviewEntry, ToolPanel, panels_of
from panel.records.store import published_slug
from panel.team.people import same_person
from panel.team.policy import Policy, four_eyes_refusal
from panel.team.roles import allows
from panel.team.work import Assignment, WorkState, verdicts_of

from .queue import RowWork
from .security import DeskSession
from .views import Segment, when, word_diff

Record = ToolPanel | Comparison


@dataclass(frozen=True)
class ChangedReview:
    """One review as a publisher approves it: what changed since the model's draft, its claims."""

    tool: str
    persona: str
    score: str  # "72 → 85", or "72" when unchanged
    verdict: str
    diff: list[Segment]  # the paragraph against the model's, empty when unchanged
    claims: str
    open_claims: list[str]  # contradicted or unsupported, nobody checked


@dataclass(frozen=True)
class ApprovalView:
    request: str
    changes: list[ChangedReview]
    unchanged: int


@dataclass(frozen=True)
class VerdictRow:
    unit: str
    verdicts: list[str]  # one per person, "—" where they gave none
    agree: bool


@dataclass(frozen=True)
class VerdictsView:
    people: list[str]
    rows: list[VerdictRow]
    summary: str


@dataclass
class TeamView:
    solo: bool
    assigned: str = ""
    lock: str = ""
    request: str = ""
    sent_back: str = ""
    four_eyes: str = ""
    can_take: bool = False
    can_hand_back: bool = False
    can_assign: bool = False
    can_request: bool = False
    can_publish: bool = True
    can_approve: bool = False
    assignees: list[str] = field(default_factory=list)
    approval: ApprovalView | None = None
    verdicts: VerdictsView | None = None


def mine(assignment: Assignment | None, who: DeskSession) -> bool:
    return assignment is not None and same_person(assignment.assignee, who.editor)


def _assigned_line(a: Assignment | None, who: DeskSession) -> str:
    if a is None:
        return "Not assigned to anyone."
    whose = "you" if mine(a, who) else a.assignee
    by = "" if a.by == a.assignee else f" by {a.by}"
    return f"Assigned to {whose}{by} since {when(a.at)}."


def _lock_line(a: Assignment | None, who: DeskSession, now: datetime, quiet: timedelta) -> str:
    if a is None or mine(a, who):
        return ""
    if a.held(now, quiet):
        return (
            f"{a.assignee} has this draft since {when(a.at)} (last active {when(a.active_at)}). You "
            "can still save: if you both do, the later save is refused and shown as a conflict, so "
            "nothing is lost."
        )
    return f"{a.assignee} has been quiet on this draft since {when(a.active_at)}: the lock is released."


def _changed(tool: str, entry: ReviewEntry) -> ChangedReview | None:
    draft = entry.original or entry
    score_moved, verdict_moved = draft.score != entry.score, draft.verdict != entry.verdict
    text_moved = clean(draft.review) != clean(entry.review)
    open_claims = [
        clean(f"{c.status}: {c.text}") for c in entry.claims if c.status != "supported" and c.checked is None
    ]
    if not (score_moved or verdict_moved or text_moved or open_claims):
        return None
    return ChangedReview(
        tool=clean(tool),
        persona=entry.persona,
        score=f"{draft.score} → {entry.score}" if score_moved else str(entry.score),
        verdict=f"{draft.verdict} → {entry.verdict}" if verdict_moved else entry.verdict,
        diff=word_diff(clean(draft.review), clean(entry.review)) if text_moved else [],
        claims=ground.counts(entry.claims).line(),
        open_claims=open_claims,
    )


def approval_view(record: Record, state: WorkState) -> ApprovalView | None:
    request = state.request
    if request is None:
        return None
    changes, unchanged = [], 0
    for panel in panels_of(record):
        for entry in panel.reviews:
            changed = _changed(panel.tool.name, entry)
            if changed is None:
                unchanged += 1
            else:
                changes.append(changed)
    since = "" if request.revision == record.revision else f"; revision {record.revision} now"
    line = f"Asked by {request.by} on {when(request.at)}, for revision {request.revision}{since}."
    return ApprovalView(clean(line), changes, unchanged)


def verdicts_view(record: Record, given: Mapping[str, Mapping[str, str]]) -> VerdictsView | None:
    """Each reviewer's verdicts side by side, where two or more gave them."""
    people = list(given)
    if len(people) < 2:
        return None
    rows = []
    for unit in verdicts_of(record):
        verdicts = [given[p].get(unit, "—") for p in people]
        known = {v for v in verdicts if v != "—"}
        rows.append(VerdictRow(clean(unit), verdicts, len(known) <= 1))
    both = [r for r in rows if "—" not in r.verdicts]
    agree = sum(r.agree for r in both)
    summary = f"{', '.join(people[:-1])} and {people[-1]} agree on {agree} of {len(both)} verdicts."
    return VerdictsView([clean(p) for p in people], rows, clean(summary))


def blind_pending(policy: Policy, who: DeskSession, record: Record, given: Mapping[str, object]) -> bool:
    """A blind second review is due: the rule is on, this reviewer has not given verdicts on a
    draft someone else has. Publishers approve with everything in view."""
    if not policy.blind_review or who.role != "reviewer" or record.status != "draft":
        return False
    theirs = [p for p in given if not same_person(p, who.editor)]
    return bool(theirs) and len(theirs) == len(given)


def last_published(root: Path, record: Record) -> datetime | None:
    """When the record's published copy was published (the four-eyes rule counts changes since)."""
    try:
        data = json.loads((root / "published" / f"{published_slug(record)}.json").read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["published_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Seen:
    """What the team view is built from, for one record and one person."""

    record: Record
    state: WorkState
    who: DeskSession
    policy: Policy
    solo: bool
    assignees: Sequence[str]
    verdicts: Mapping[str, Mapping[str, str]]
    published_at: datetime | None
    now: datetime


def team_view(s: Seen) -> TeamView:
    quiet = s.policy.lock_window
    draft = s.record.status == "draft"
    publisher = allows(s.who.role, "publish")
    if s.solo:
        return TeamView(solo=True, can_publish=draft and publisher)
    a = s.state.assignment
    refusal = four_eyes_refusal(s.record, s.who.editor, s.published_at) if s.policy.four_eyes else None
    sent = s.state.sent_back
    return TeamView(
        solo=False,
        assigned=clean(_assigned_line(a, s.who)),
        lock=clean(_lock_line(a, s.who, s.now, quiet)),
        request=f"Awaiting approval: asked by {clean(s.state.request.by)} on {when(s.state.request.at)}."
        if s.state.request
        else "",
        sent_back=clean(f"Sent back by {sent.by} on {when(sent.at)}: {sent.note}") if sent else "",
        four_eyes=clean(f"You cannot publish this draft: {refusal}.") if refusal and publisher else "",
        can_take=draft and not mine(a, s.who) and (a is None or not a.held(s.now, quiet)),
        can_hand_back=draft and a is not None and (mine(a, s.who) or publisher),
        can_assign=draft and publisher,
        can_request=draft and s.state.request is None,
        can_publish=draft and publisher,
        can_approve=draft and publisher and s.state.request is not None,
        assignees=[clean(name) for name in s.assignees],
        approval=approval_view(s.record, s.state) if publisher else None,
        verdicts=verdicts_view(s.record, s.verdicts),
    )


def row_work(state: WorkState, who: DeskSession, now: datetime, quiet: timedelta) -> RowWork:
    """A queue row's team state, worded."""
    a = state.assignment
    assigned = ""
    if a is not None:
        name = "you" if mine(a, who) else a.assignee
        assigned = name if a.held(now, quiet) or mine(a, who) else f"{name} (quiet since {when(a.active_at)})"
    approval = "awaiting approval" if state.request else ("sent back" if state.sent_back else "")
    return RowWork(assigned=clean(assigned), approval=approval)


@dataclass(frozen=True)
class BlindUnit:
    name: str  # the form field
    tool: str
    persona: str
    review: str


def blind_units(record: Record, names: Mapping[str, str]) -> list[BlindUnit]:
    """Each review for a blind second review: its text, its score and verdict left out."""
    return [
        BlindUnit(
            name=f"blind.{i}.{entry.persona}",
            tool=clean(panel.tool.name),
            persona=clean(names.get(entry.persona, entry.persona)),
            review=clean(entry.review),
        )
        for i, panel in enumerate(panels_of(record))
        for entry in panel.reviews
    ]
