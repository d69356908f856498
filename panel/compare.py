"""Merging tool panels into a comparison record and saving it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from panel.panel import PanelOutcome, Status
from panel.records import Comparison, utcnow
from panel.store import Outputs, load_record, write_record


@dataclass
class ComparisonOutcome:
    comparison: Comparison
    path: Path
    status: Status


def save_comparison(outcomes: list[PanelOutcome], outputs: Outputs, force: bool = False) -> ComparisonOutcome:
    """Write the comparison of these panels, unless it is unchanged or a person edited it."""
    path = outputs.comparison_path([o.tool.name for o in outcomes])
    # A panel's own checksum belongs to its own file, not to copies inside comparisons.
    panels = [o.panel.model_copy(update={"checksum": None}) for o in outcomes]
    existing = load_record(path, Comparison) if path.exists() else None
    if existing is not None:
        if existing.edited and not force:
            return ComparisonOutcome(existing.record, path, "kept-edited")
        if not existing.edited and existing.record.panels == panels:
            return ComparisonOutcome(existing.record, path, "unchanged")
    comparison = Comparison(
        panels=panels,
        community=existing.record.community if existing else {},
        created_at=existing.record.created_at if existing else utcnow(),
        updated_at=utcnow(),
    )
    write_record(path, comparison)
    return ComparisonOutcome(comparison, path, "written")
