"""What the record index keeps of one file: read once, so queues and stats never read texts.

`analyse` turns a file's text into plain facts: the queue row the review desk shows (status,
flags, counts, last change), the per-review figures `panel stats` needs (score, verdict, draft,
claims counts), the similarity of the personas' paragraphs, and a comparison's community votes.
Claims and quality flags come from grounding, recomputed with the personas in effect, so a
record written before claims existed, or edited by hand, is counted like any other (a look-up,
not a second grounding, when this process has just grounded the same reviews to write them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from panel.core.loading import describe_validation_error, parse_text, read_text
from panel.errors import InputError
from panel.grounding import ground, similarity
from panel.index.judgements import JudgementFacts, judgement_facts
from panel.records import LIFECYCLE, Comparison, Persona, ToolPanel, panels_of
from panel.records.store import MAX_RECORD_BYTES, checksum, published_slug, slugify

# Where the review desk's records live: drafts, and published copies (not earlier revisions).
RECORD_FOLDERS = ("panels", "comparisons", "published")
# Queue flags, in the order they are listed.
FLAGS = (
    "failed",  # a review failed, or a persona in effect has none
    "split",  # a jury with no majority: an editor sets the verdict
    "conflict",  # a single judge of the tool's own vendor
    "contradicted",  # a claim the material contradicts, not checked by a person
    "unsupported",  # a claim the material does not support, not checked by a person
    "copies-example",
    "degenerate",
    "verdict-disagrees",  # a verdict that disagrees with its score
    "hand-edited",  # the file no longer matches its checksum: changed outside panel
    "stale",  # published, and `panel recheck` found its material now contradicts a claim
)


# RowFacts.counts: per record, summed over its reviews (and panels, for a comparison).
COUNTS = (
    "reviews",
    "failed",  # failed reviews
    "missing",  # personas in effect with no review and no failure
    "edited",  # reviews a person changed
    "claims",
    "supported",
    "contradicted",
    "unsupported",
    "checked",  # claims a person marked as verified
    "open_contradicted",  # contradicted and not checked
    "open_unsupported",
    "verdict_disagrees",
    "split",  # reviews whose jury had no majority
    "conflict",  # reviews by a single judge of the tool's own vendor
    "copies_example",  # quality flags, by kind
    "degenerate",
)


@dataclass(frozen=True)
class ReviewFacts:
    """One review, as `panel stats` counts it."""

    pos: int
    persona: str
    score: int
    verdict: str
    orig_score: int
    orig_verdict: str
    edited: bool
    claims: int
    supported: int
    contradicted: int
    unsupported: int
    checked: int


@dataclass(frozen=True)
class PanelFacts:
    """A panel file, as `panel stats` ranks and counts it (see docs/stats.md)."""

    slug: str
    published: bool
    revision: int
    updated_ts: float
    failures: int
    verdict: str | None
    ship: int
    skip: int
    similarity: float | None  # mean over the pairs below; None with fewer than two reviews
    reviews: tuple[ReviewFacts, ...] = ()
    pairs: tuple[tuple[str, str, float, bool], ...] = ()  # persona, persona, similarity, same verdict
    judgements: tuple[JudgementFacts, ...] = ()  # who judged each review (index/judgements.py)


@dataclass(frozen=True)
class VoteFacts:
    """Community votes for one tool of a comparison, beside the panel's verdict on it."""

    tool: str
    ship: int
    skip: int
    panel_verdict: str | None


@dataclass(frozen=True)
class ComparisonFacts:
    slug: str
    published: bool
    revision: int
    updated_ts: float
    votes: tuple[VoteFacts, ...]


@dataclass(frozen=True)
class RowFacts:
    """A queue row of the review desk (panels/, comparisons/ and published/ only)."""

    kind: str
    title: str
    tools: tuple[str, ...]
    own_status: str  # "draft" or "published": what the file itself says, or its folder
    pub_slug: str  # the record's file name under published/
    content: str  # digest of the content a publication compares (lifecycle fields left out)
    revision: int
    updated_at: str
    updated_ts: float
    last_change_by: str | None
    last_change_at: str | None
    last_change_action: str | None
    changed_ts: float
    flags: tuple[str, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class FileFacts:
    kind: str  # "panel", "comparison", "other" (not a record) or "unreadable"
    digest: str
    problem: str | None = None  # why a panel or comparison could not be read
    panel: PanelFacts | None = None
    comparison: ComparisonFacts | None = None
    row: RowFacts | None = None


_JSON = Path("record.json")  # parse_text reads by suffix; problems are reported with the real path


def digest_text(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def is_record_path(rel: str) -> bool:
    """panels/X.json, comparisons/X.json or published/X.json: what the desk lists."""
    parts = rel.split("/")
    return len(parts) == 2 and parts[0] in RECORD_FOLDERS


def _in_published(rel: str) -> bool:
    """A published copy by its folder (published/ or published/revisions/), as stats counts it."""
    parts = rel.split("/")
    return len(parts) > 1 and parts[-2] == "published"


def read(path: Path) -> str:
    """The file's text, as store.load_record reads it (InputError when it cannot be read)."""
    return read_text(path, max_bytes=MAX_RECORD_BYTES)


def analyse(rel: str, text: str, personas: Sequence[Persona]) -> FileFacts:
    """Everything the index keeps of one file. Never raises for bad content: a file that does
    not parse or validate comes back as "unreadable" or with its `problem`."""
    digest = digest_text(text)
    try:
        data = parse_text(text, _JSON)
    except InputError as exc:
        return FileFacts("unreadable", digest, exc.problem)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in ("panel", "comparison"):
        return FileFacts("other", digest)
    model = ToolPanel if kind == "panel" else Comparison
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        return FileFacts(kind, digest, describe_validation_error(exc))
    hand_edited = data.get("checksum") != checksum(data)
    published = record.status == "published" or _in_published(rel)
    refreshed = ground.refresh(record, personas)
    if isinstance(refreshed, ToolPanel):
        panel, comparison = _panel_facts(refreshed, published), None
    else:
        panel, comparison = None, _comparison_facts(refreshed, published)
    row = _row(rel, record, refreshed, personas, hand_edited) if is_record_path(rel) else None
    return FileFacts(kind, digest, panel=panel, comparison=comparison, row=row)


def _review_facts(panel: ToolPanel) -> tuple[ReviewFacts, ...]:
    out = []
    for pos, r in enumerate(panel.reviews):
        c = ground.counts(r.claims)
        draft = r.original
        out.append(
            ReviewFacts(
                pos=pos,
                persona=r.persona,
                score=r.score,
                verdict=r.verdict,
                orig_score=draft.score if draft else r.score,
                orig_verdict=draft.verdict if draft else r.verdict,
                edited=r.edited,
                claims=c.claims,
                supported=c.supported,
                contradicted=c.contradicted,
                unsupported=c.unsupported,
                checked=c.checked,
            )
        )
    return tuple(out)


def _panel_facts(panel: ToolPanel, published: bool) -> PanelFacts:
    verdicts = {r.persona: r.verdict for r in panel.reviews}
    pairs = tuple(
        (a, b, value, verdicts[a] == verdicts[b])
        for a, b, value in similarity.pairwise({r.persona: r.review for r in panel.reviews})
    )
    s = panel.summary
    return PanelFacts(
        slug=slugify(panel.tool.name),
        published=published,
        revision=panel.revision,
        updated_ts=panel.updated_at.timestamp(),
        failures=len(panel.failures),
        verdict=s.verdict,
        ship=s.ship,
        skip=s.skip,
        similarity=sum(x[2] for x in pairs) / len(pairs) if pairs else None,
        reviews=_review_facts(panel),
        judgements=judgement_facts(panel),
        pairs=pairs,
    )


def _comparison_facts(record: Comparison, published: bool) -> ComparisonFacts:
    votes = tuple(
        VoteFacts(p.tool.name, v.ship, v.skip, p.summary.verdict)
        for p in record.panels
        if (v := record.community.get(p.tool.name)) is not None and v.ship + v.skip > 0
    )
    return ComparisonFacts(
        slug=published_slug(record),
        published=published,
        revision=record.revision,
        updated_ts=record.updated_at.timestamp(),
        votes=votes,
    )


def _flags(
    record: ToolPanel | Comparison, personas: Sequence[Persona], hand_edited: bool
) -> tuple[tuple[str, ...], dict[str, int]]:
    panels = panels_of(record)
    counts = dict.fromkeys(COUNTS, 0)
    for panel in panels:
        have = {r.persona for r in panel.reviews} | {f.persona for f in panel.failures}
        counts["failed"] += len(panel.failures)
        counts["missing"] += sum(p.id not in have for p in personas)
        for r in panel.reviews:
            c = ground.counts(r.claims)
            counts["reviews"] += 1
            counts["edited"] += r.edited
            counts["verdict_disagrees"] += r.contradicts
            counts["split"] += r.verdict == "split"
            counts["conflict"] += r.conflict is not None
            for key in ("claims", "supported", "contradicted", "unsupported", "checked"):
                counts[key] += getattr(c, key)
            counts["open_contradicted"] += c.open_contradicted
            counts["open_unsupported"] += c.open_unsupported
            for q in r.quality:
                key = q.kind.replace("-", "_")
                counts[key] = counts.get(key, 0) + 1
    present = {
        "failed": counts["failed"] + counts["missing"] > 0,
        "split": counts["split"] > 0,
        "conflict": counts["conflict"] > 0,
        "contradicted": counts["open_contradicted"] > 0,
        "unsupported": counts["open_unsupported"] > 0,
        "copies-example": counts["copies_example"] > 0,
        "degenerate": counts["degenerate"] > 0,
        "verdict-disagrees": counts["verdict_disagrees"] > 0,
        "hand-edited": hand_edited,
        "stale": record.stale is not None,
    }
    return tuple(f for f in FLAGS if present[f]), counts


def _row(
    rel: str,
    record: ToolPanel | Comparison,
    refreshed: ToolPanel | Comparison,
    personas: Sequence[Persona],
    hand_edited: bool,
) -> RowFacts:
    flags, counts = _flags(refreshed, personas, hand_edited)
    in_published = rel.startswith("published/")
    last = record.history[-1] if record.history else None
    # What `panel publish` compares (publishing._content): everything but the lifecycle fields,
    # of the record with its claims recomputed (as publish validates it), so claims stored
    # before the rules last changed do not make a draft look edited.
    content = refreshed.model_dump_json(exclude=set(LIFECYCLE))
    panels = panels_of(record)
    updated_ts = record.updated_at.timestamp()
    return RowFacts(
        kind=record.kind,
        title=record.title if isinstance(record, Comparison) else record.tool.name,
        tools=tuple(p.tool.name for p in panels),
        own_status="published" if in_published or record.status == "published" else "draft",
        pub_slug=published_slug(record),
        content=digest_text(content),
        revision=record.revision,
        updated_at=record.updated_at.isoformat(),
        updated_ts=updated_ts,
        last_change_by=last.by if last else None,
        last_change_at=last.at.isoformat() if last else None,
        last_change_action=last.action if last else None,
        changed_ts=max(updated_ts, last.at.timestamp()) if last else updated_ts,
        flags=flags,
        counts=counts,
    )
