"""`panel publish`: validate a draft, stamp it, and write the published record and its pages.

A published record is never changed: publishing again after an edit writes a new revision and
keeps the old one under outputs/published/revisions/. Drafts are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from panel.errors import InputError
from panel.personas import Persona
from panel.records import Change, Comparison, ToolPanel, utcnow
from panel.store import Outputs, atomic_write, dump_record, load_record, slugify
from panel.validate import validate_file

LIFECYCLE = {"status", "revision", "published_at", "published_by", "history", "checksum", "updated_at"}


@dataclass
class Published:
    record: ToolPanel | Comparison
    paths: list[Path]
    status: str  # "published" or "unchanged"


def published_slug(record: ToolPanel | Comparison) -> str:
    panels = record.panels if isinstance(record, Comparison) else [record]
    return "-vs-".join(slugify(p.tool.name) for p in panels)


def refusals(record: ToolPanel | Comparison, personas: list[Persona]) -> list[str]:
    """Why a record may not be published yet, one reason per line."""
    reasons = []
    panels = record.panels if isinstance(record, Comparison) else [record]
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
            if review.contradicts:
                reasons.append(
                    f"{name}: the {review.persona} verdict {review.verdict!r} contradicts score "
                    f"{review.score} (ships at {review.provenance.ship_threshold}); fix it with `panel edit`"
                )
    return reasons


def _content(record: ToolPanel | Comparison) -> dict:
    return {k: v for k, v in record.model_dump(mode="json").items() if k not in LIFECYCLE}


def hand_edits(record: ToolPanel | Comparison) -> list[str]:
    """Review fields that differ from the model's draft without a history entry for them."""
    recorded = {f for c in record.history if c.action == "edited" for f in c.fields}
    panels = record.panels if isinstance(record, Comparison) else [record]
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
    render: object,
) -> Published:
    """Validate, stamp and write outputs/published/<slug>.json plus .md and .html beside it.

    `render(record, fmt)` returns the page text; passed in so this module stays free of templates.
    """
    report = validate_file(path)
    if not report.ok or report.record is None:
        first = report.problems[0]
        more = (
            f" (and {len(report.problems) - 1} more; run `panel validate {path}`)"
            if len(report.problems) > 1
            else ""
        )
        raise InputError(f"cannot publish: {first.path}: {first.message}{more}", where=path)
    record = report.record
    if record.status == "published":
        raise InputError(
            "this is a published record, which never changes",
            where=path,
            hint="edit the draft under outputs/ and publish that",
        )
    reasons = refusals(record, personas)
    if reasons:
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        raise InputError(f"cannot publish: {reasons[0]}{more}", where=path)

    history = list(record.history)
    found = hand_edits(record)
    if found or load_record(path, type(record)).edited:
        history.append(
            Change(by=by, action="edited", fields=found, note="edited outside panel; recorded at publication")
        )
    target = outputs.root / "published" / f"{published_slug(record)}.json"
    revision = 1
    if target.exists():
        previous = load_record(target, type(record)).record
        if _content(previous) == _content(record):
            return Published(previous, [target], "unchanged")
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
    for fmt in ("md", "html"):
        page = target.with_suffix(f".{fmt}")
        atomic_write(page, render(published, fmt).encode())  # type: ignore[operator]
        paths.append(page)
    return Published(published, paths, "published")
