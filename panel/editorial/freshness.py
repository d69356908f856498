"""Keeping records true to their sources after they are written: the editorial half of `panel
recheck`. Given a record and its tools with their sources fetched again, the reviews are grounded
again, the claims whose status changed are reported with their old and new evidence, and the
record's history notes the recheck. A published record that now has a claim the material
contradicts and nobody checked (what `panel publish` would refuse) is marked stale, until a fixed
draft is published. The record's draft(s) get the new sources too, so the fix is made against
them; a draft edited by hand outside panel is left alone, and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from panel.core.files import atomic_write
from panel.editorial.publishing import claim_line
from panel.editorial.render import Format
from panel.editorial.validate import valid_record
from panel.errors import ConflictError
from panel.grounding import ground
from panel.records import (
    Change,
    Claim,
    Comparison,
    Persona,
    Stale,
    Tool,
    ToolPanel,
    panels_of,
    utcnow,
    with_panels,
)
from panel.records.store import Outputs, file_version, load_record, write_record_if


@dataclass(frozen=True)
class SourcesReport:
    """What fetching a record's sources again found."""

    checked: int = 0
    changed: tuple[str, ...] = ()  # titles of the sources whose body changed
    failed: tuple[str, ...] = ()  # 'title: why'

    def __add__(self, other: SourcesReport) -> SourcesReport:
        return SourcesReport(
            self.checked + other.checked, self.changed + other.changed, self.failed + other.failed
        )

    def note(self) -> str:
        """'4 sources checked: 1 changed (Pricing page), 1 failed (...)', for the history."""
        if not self.checked:
            return "no fetched sources to check"
        parts = [f"{len(self.changed)} changed" + (f" ({', '.join(self.changed)})" if self.changed else "")]
        if self.failed:
            parts.append(f"{len(self.failed)} could not be fetched ({'; '.join(self.failed)})")
        return f"{self.checked} source{'s' if self.checked != 1 else ''} checked: " + ", ".join(parts)


Refetch = Callable[[Tool], tuple[Tool, SourcesReport]]
Render = Callable[[ToolPanel | Comparison, Format], str]
PAGES: tuple[Format, ...] = ("md", "html")


@dataclass(frozen=True)
class Flip:
    """A claim whose status changed with the sources: before and after, each with its evidence."""

    tool: str
    persona: str
    before: Claim
    after: Claim


@dataclass
class FileRecheck:
    """One record file rechecked: what the sources did, what flipped, and what was written."""

    path: Path
    sources: SourcesReport
    flips: list[Flip]
    stale: Stale | None
    written: list[tuple[Path, str]] = field(default_factory=list)


def flips(before: ToolPanel | Comparison, after: ToolPanel | Comparison) -> list[Flip]:
    """Claims (same tool, persona, text and kind) whose status differs between the two."""
    old = {
        (p.tool.name, r.persona, c.text, c.kind): c
        for p in panels_of(before)
        for r in p.reviews
        for c in r.claims
    }
    found = []
    for panel in panels_of(after):
        for review in panel.reviews:
            for claim in review.claims:
                previous = old.get((panel.tool.name, review.persona, claim.text, claim.kind))
                if previous is not None and previous.status != claim.status:
                    found.append(Flip(panel.tool.name, review.persona, previous, claim))
    return found


def _blocking(record: ToolPanel | Comparison) -> list[str]:
    return [
        claim_line(p.tool.name, r.persona, c)
        for p in panels_of(record)
        for r in p.reviews
        for c in r.claims
        if c.blocks_publishing
    ]


def with_sources(
    record: ToolPanel | Comparison,
    tools: Mapping[str, Tool],
    personas: Sequence[Persona],
    by: str,
    note: str,
    at: datetime,
) -> tuple[ToolPanel | Comparison, list[Flip], Stale | None]:
    """The record with its tools' sources replaced, grounded again, stale or not, and a
    'rechecked' entry in its history; the flipped claims; the stale mark."""
    before = ground.refresh(record, personas)
    panels = [p.model_copy(update={"tool": tools.get(p.tool.name, p.tool)}) for p in panels_of(record)]
    after = ground.refresh(with_panels(record, panels), personas)
    blocking = _blocking(after)
    stale = None
    if after.status == "published" and blocking:
        stale = Stale(at=at, by=by, reason="; ".join(blocking))
    prefix = isinstance(record, Comparison)
    changed = [
        f"{p.tool.name}: tool.sources" if prefix else "tool.sources"
        for p in panels_of(record)
        if tools.get(p.tool.name, p.tool) != p.tool
    ]
    history = [*record.history, Change(at=at, by=by, action="rechecked", fields=changed, note=note)]
    update = {"stale": stale, "history": history, "updated_at": at, "checksum": None}
    return after.model_copy(update=update), flips(before, after), stale


def drafts_of(record: ToolPanel | Comparison, outputs: Outputs) -> list[Path]:
    """The drafts a published record came from: its tools' panel files, and a comparison's file."""
    names = [p.tool.name for p in panels_of(record)]
    paths = [outputs.panel_path(n) for n in names]
    if isinstance(record, Comparison):
        paths.append(outputs.comparison_path(names))
    return paths


def recheck_file(
    path: Path,
    refetch: Refetch,
    outputs: Outputs,
    personas: Sequence[Persona],
    by: str,
    render: Render | None = None,
) -> FileRecheck:
    """Recheck one record file: fetch its sources again (`refetch`), write it back (a
    compare-and-swap on the version read: ConflictError, nothing written, if it changed
    meanwhile), then carry the sources to its drafts and re-render a published page that is
    still fresh (its "Sources checked on" date moves on)."""
    version = file_version(path)
    record = valid_record(path, personas)
    tools: dict[str, Tool] = {}
    report = SourcesReport()
    for panel in panels_of(record):
        tools[panel.tool.name], found = refetch(panel.tool)
        report += found
    if not report.checked:
        return FileRecheck(path, report, [], record.stale)  # nothing fetched: nothing to note
    at = utcnow()
    updated, found_flips, stale = with_sources(record, tools, personas, by, report.note(), at)
    write_record_if(path, updated, version)
    result = FileRecheck(path, report, found_flips, stale, [(path, "updated")])
    if updated.status == "published":
        if stale is None and render is not None:
            for fmt in PAGES:
                page = path.with_suffix(f".{fmt}")
                atomic_write(page, render(updated, fmt).encode())
                result.written.append((page, "page rendered again"))
        for draft in drafts_of(record, outputs):
            if draft.resolve() != path.resolve() and draft.exists():
                result.written.append((draft, _carry(draft, tools, personas, by, report.note(), at)))
    return result


def _carry(
    path: Path, tools: Mapping[str, Tool], personas: Sequence[Persona], by: str, note: str, at: datetime
) -> str:
    """Give a draft the rechecked sources; how it went, in words."""
    version = file_version(path)
    kind: type[ToolPanel] | type[Comparison] = Comparison if path.parent.name == "comparisons" else ToolPanel
    loaded = load_record(path, kind)
    if loaded.edited:
        return "not updated: it was edited by hand outside panel; recheck it too"
    if all(tools.get(p.tool.name, p.tool) == p.tool for p in panels_of(loaded.record)):
        return "already up to date"
    updated, _, _ = with_sources(loaded.record, tools, personas, by, note, at)
    try:
        write_record_if(path, updated, version)
    except ConflictError:
        return "not updated: it changed while rechecking; recheck it too"
    return "updated (the draft)"
