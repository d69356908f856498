"""Merging tool panels into a comparison record and saving it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from panel.generation.assembly import PanelOutcome
from panel.generation.planning import Status
from panel.records import Comparison, utcnow
from panel.records.store import Outputs, load_record, write_lock, write_record


@dataclass
class ComparisonOutcome:
    comparison: Comparison
    path: Path
    status: Status


def save_comparison(outcomes: list[PanelOutcome], outputs: Outputs, force: bool = False) -> ComparisonOutcome:
    """Write the comparison of these panels, unless it is unchanged or a person edited it.

    Read and written under the record's write lock, so a save from the desk or `panel edit` in
    between is never overwritten; votes, history and revision carry over.
    """
    path = outputs.comparison_path([o.tool.name for o in outcomes])
    # A panel's own checksum belongs to its own file, not to copies inside comparisons.
    panels = [o.panel.model_copy(update={"checksum": None}) for o in outcomes if o.panel is not None]
    with write_lock(path):
        existing = load_record(path, Comparison) if path.exists() else None
        if existing is not None:
            if existing.edited and not force:
                return ComparisonOutcome(existing.record, path, "kept-edited")
            if not existing.edited and existing.record.panels == panels:
                return ComparisonOutcome(existing.record, path, "unchanged")
        before = existing.record if existing is not None else None
        comparison = Comparison(
            panels=panels,
            community=before.community if before else {},
            created_at=before.created_at if before else utcnow(),
            updated_at=utcnow(),
            revision=before.revision if before else 1,
            history=before.history if before else [],
        )
        write_record(path, comparison)
    return ComparisonOutcome(comparison, path, "written")
