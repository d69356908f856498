"""`panel publish`: validate a draft, stamp it, and write the published record and its pages.

A published record is never changed: publishing again after an edit writes a new revision and
keeps the old one under outputs/published/revisions/. Drafts are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from panel.core.files import atomic_write
from panel.editorial.validate import validate_file
from panel.errors import ConflictError, InputError, PolicyError
from panel.records import (
    LIFECYCLE,
    Change,
    Claim,
    Comparison,
    Persona,
    ToolPanel,
    conflict,
    panels_of,
    utcnow,
)
from panel.records.store import Outputs, dump_record, file_version, load_record, published_slug, write_lock
from panel.team.policy import four_eyes_refusal, read_policy

if TYPE_CHECKING:
    from panel.editorial.render import Format

# The page text of a record in a format: passed in, so this module stays free of templates.
PageRenderer = Callable[[ToolPanel | Comparison, "Format"], str]


@dataclass
class Published:
    record: ToolPanel | Comparison
    paths: list[Path]
    status: str  # "published" or "unchanged"
    warnings: list[str] = field(default_factory=list)  # unsupported claims nobody checked


def claim_line(name: str, persona: str, claim: Claim) -> str:
    """One claim that needs a person, for refusals, warnings and stale marks."""
    said = f"{name}: the {persona} review says {claim.text!r} ({claim.kind})"
    if claim.evidence is None:
        return f"{said}, which the material does not support"
    return f"{said}, but the material says {claim.evidence.sentence!r} ({claim.evidence.origin()})"


def refusals(
    record: ToolPanel | Comparison, personas: list[Persona], require_checked: bool = False
) -> list[str]:
    """Why a record may not be published yet, one reason each. `record` has its claims and
    flags recomputed (validate_file does that)."""
    reasons = []
    panels = panels_of(record)
    for panel in panels:
        name = panel.tool.name
        for failure in panel.failures:
            reasons.append(
                f"{name}: the {failure.persona} review failed ({failure.reason}); re-run to regenerate it"
            )
        have = {r.persona for r in panel.reviews} | {f.persona for f in panel.failures}
        for persona in personas:
            if persona.id not in have:
                reasons.append(f"{name}: no review by {persona.id}; re-run `panel review` or `panel compare`")
        for review in panel.reviews:
            if review.verdict == "split":
                reasons.append(
                    f"{name}: the {review.persona} jury is split ({review.tally}); an editor sets the "
                    "verdict (ship or skip) with `panel edit` or on the desk"
                )
            if review.contradicts:
                reasons.append(
                    f"{name}: the {review.persona} verdict {review.verdict!r} contradicts score "
                    f"{review.score} (ships at {review.provenance.ship_threshold}); fix it with `panel edit`"
                )
            for claim in review.claims:
                strict = require_checked and claim.checked is None and claim.status == "unsupported"
                if claim.blocks_publishing or strict:
                    reasons.append(
                        claim_line(name, review.persona, claim) + "; fix the text or mark it checked"
                    )
            if review.quality and not (review.original and review.original.review != review.review):
                for flag in review.quality:
                    reasons.append(
                        f"{name}: the {review.persona} review is flagged {flag.kind} ({flag.detail}); "
                        "edit its text first"
                    )
    return reasons


def warnings(record: ToolPanel | Comparison) -> list[str]:
    """What an editor should know before publishing but that does not stop it: claims the
    material does not support, nobody checked; contradictions only the model pass found."""
    found = []
    for panel in panels_of(record):
        for review in panel.reviews:
            judge = conflict(review, panel.tool)
            if judge is not None:
                found.append(
                    f"{panel.tool.name}: the {review.persona} review has a conflict: {judge}; regenerate "
                    "it with another profile or a jury (which recuses such a member)"
                )
            for claim in review.claims:
                if claim.needs_check:
                    found.append(
                        claim_line(panel.tool.name, review.persona, claim) + "; not checked by anyone"
                    )
    return found


def _content(record: ToolPanel | Comparison) -> dict:
    return {k: v for k, v in record.model_dump(mode="json").items() if k not in LIFECYCLE}


def hand_edits(record: ToolPanel | Comparison) -> list[str]:
    """Review fields that differ from the model's draft without a history entry for them."""
    recorded = {f for c in record.history if c.action == "edited" for f in c.fields}
    panels = panels_of(record)
    found = []
    for panel in panels:
        prefix = f"{panel.tool.name}: " if isinstance(record, Comparison) else ""
        for r in panel.reviews:
            for key in ("score", "verdict", "review"):
                path = f"{prefix}reviews.{r.persona}.{key}"
                if (
                    r.original is not None
                    and getattr(r.original, key) != getattr(r, key)
                    and path not in recorded
                ):
                    found.append(path)
    return found


def publish(
    path: Path,
    outputs: Outputs,
    personas: list[Persona],
    by: str,
    render: PageRenderer,
    require_checked: bool = False,
    expect: str | None = None,
) -> Published:
    """Validate, stamp and write outputs/published/<slug>.json plus .md and .html beside it.

    `render(record, fmt)` returns the page text; passed in so this module stays free of templates.
    Refuses a record with an unchecked claim the rules find contradicted, a review flagged as
    copying an example or as degenerate (until a person edits its text), and, with
    `require_checked`, an unchecked unsupported claim; with the four-eyes rule on
    (`panel desk policy`, panel/team/policy.py), a record `by` changed a score, verdict or review
    text of (PolicyError). With `expect` (a `file_version` read when
    the reviewer opened the draft), refuses with ConflictError if the draft changed since: what
    is published is exactly what the reviewer saw.
    """
    with write_lock(path):  # no save lands between reading the draft and publishing it
        if expect is not None and file_version(path) != expect:
            raise ConflictError(
                "the draft changed since you opened it; nothing was published",
                where=path,
                hint="open it again, check the changes, then publish",
            )
        return _publish(path, outputs, personas, by, render, require_checked)


def _publish(
    path: Path,
    outputs: Outputs,
    personas: list[Persona],
    by: str,
    render: PageRenderer,
    require_checked: bool,
) -> Published:
    report = validate_file(path, personas)
    # The file's own problems stop it here; its claims are refused below (`refusals`), each by name.
    problems = report.problems
    if problems or report.record is None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; run `panel validate {path}`)" if len(problems) > 1 else ""
        raise InputError(f"cannot publish: {first.path}: {first.message}{more}", where=path)
    record = report.record
    if record.status == "published":
        raise InputError(
            "this is a published record, which never changes",
            where=path,
            hint="edit the draft under outputs/ and publish that",
        )
    reasons = refusals(record, personas, require_checked)
    if reasons:
        raise InputError(f"cannot publish: {'; '.join(reasons)}", where=path)

    found = hand_edits(record)
    target = outputs.root / "published" / f"{published_slug(record)}.json"
    previous = load_record(target, type(record)).record if target.exists() else None
    if read_policy(outputs.root).four_eyes:
        since = previous.published_at if previous is not None else None
        refusal = four_eyes_refusal(record, by, since, found)
        if refusal is not None:
            raise PolicyError(f"cannot publish: {refusal}", where=path, hint="nothing was published")
    history = list(record.history)
    if found or load_record(path, type(record)).edited:
        history.append(
            Change(by=by, action="edited", fields=found, note="edited outside panel; recorded at publication")
        )
    revision = 1
    if previous is not None:
        if _content(previous) == _content(record):
            return Published(previous, [target], "unchanged", warnings(record))
        revision = previous.revision + 1
        keep = outputs.root / "published" / "revisions" / f"{target.stem}.r{previous.revision}.json"
        if not keep.exists():
            atomic_write(keep, target.read_bytes())
    now = utcnow()
    history.append(Change(at=now, by=by, action="published", note=f"revision {revision}"))
    published = record.model_copy(
        update={
            "status": "published",
            "revision": revision,
            "published_at": now,
            "published_by": by,
            "history": history,
            "checksum": None,
        }
    )
    atomic_write(target, dump_record(published))
    paths = [target]
    formats: tuple[Format, ...] = ("md", "html")
    for fmt in formats:
        page = target.with_suffix(f".{fmt}")
        atomic_write(page, render(published, fmt).encode())
        paths.append(page)
    return Published(published, paths, "published", warnings(published))
