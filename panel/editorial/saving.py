"""Saving a person's change, from `panel edit`, `panel claims --check` and the desk alike:
revision + 1, a history entry saying who changed which fields, and a compare-and-swap write that
refuses a save based on an older copy of the file. A comparison's change is carried to each
tool's panel file too, the source comparisons are rebuilt from."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from panel.editorial.editing import Applied, ClaimCheck, claim_check
from panel.errors import ConflictError, InputError
from panel.records import Change, Comparison, Persona, RecordT, ToolPanel, utcnow

if TYPE_CHECKING:
    from panel.records.store import Outputs


def with_history(
    record: RecordT,
    by: str,
    fields: list[str],
    previous: dict[str, Any],
    at: datetime | None = None,
    action: Literal["edited", "checked"] = "edited",
    note: str = "",
) -> RecordT:
    """The record with one more history entry (who, what, which fields) and `updated_at` moved."""
    at = at or utcnow()
    change = Change(at=at, by=by, action=action, fields=fields, previous=previous, note=note)
    return record.model_copy(update={"history": [*record.history, change], "updated_at": at})


def mark_checked(
    record: ToolPanel | Comparison, check: ClaimCheck, at: datetime | None = None
) -> ToolPanel | Comparison:
    """The one way a claim is marked checked, for `panel claims --check`, the `check` list of
    `panel edit` and the desk alike: the mark on the claim (grounding's `check_claim`) and a
    `checked` history entry naming who and how. InputError if the review makes no such claim."""
    from panel.grounding import ground

    at = at or utcnow()
    mark = check.mark.model_copy(update={"at": at})
    marked = ground.check_claim(record, check.tool, check.persona, check.text, mark)
    field = f"{check.tool}: reviews.{check.persona}.claims"
    return with_history(marked, mark.by, [field], {}, at, "checked", f"{check.text}: {mark.note}")


def _carry_over(target: ToolPanel, edited: ToolPanel, fields: list[str]) -> ToolPanel:
    """Copy the edited fields of one panel onto another copy of the same tool's panel."""
    tool = target.tool
    tool_fields = [f.split(".", 1)[1] for f in fields if f.startswith("tool.")]
    if tool_fields:
        tool = tool.model_copy(update={k: getattr(edited.tool, k) for k in tool_fields})
    reviews = []
    for entry in target.reviews:
        keys = [f.rsplit(".", 1)[1] for f in fields if f.startswith(f"reviews.{entry.persona}.")]
        source = edited.review_for(entry.persona)
        if keys and source is not None:
            entry = entry.model_copy(update={k: getattr(source, k) for k in keys})
        reviews.append(entry)
    return target.model_copy(update={"tool": tool, "reviews": reviews})


def _saved(record: ToolPanel | Comparison, personas: Sequence[Persona]) -> ToolPanel | Comparison:
    """What a save writes: claims and quality flags recomputed for the new text, revision + 1."""
    from panel.grounding import ground

    if personas:
        record = ground.refresh(record, personas)
    return record.model_copy(update={"revision": record.revision + 1, "checksum": None})


def save_edit(
    path: Path,
    applied: Applied,
    by: str,
    outputs: Outputs,
    expect: str | None,
    personas: Sequence[Persona] = (),
) -> list[tuple[Path, str]]:
    """Write the edited record, with history and revision + 1, if the file is still the version
    the editor opened (`expect`, from store.file_version); otherwise raise ConflictError and
    write nothing. Claims the edit marks checked are marked (mark_checked). A comparison's edits
    and marks then go to each tool's panel file too, the source every comparison is rebuilt
    from, so a later `panel compare` keeps them; a panel file that changed meanwhile or was
    edited by hand is left alone, and the result says so."""
    from panel.records.store import write_record_if

    at = utcnow()  # one moment for every copy of the change
    record = _edited(applied, by, at)
    for check in applied.checks:
        record = mark_checked(record, check, at)
    write_record_if(path, _saved(record, personas), expect)
    written: list[tuple[Path, str]] = [(path, "updated")]
    if isinstance(record, Comparison):
        for panel in record.panels:
            written += _carry_to_panel_file(panel, applied, by, at, outputs, personas)
    return written


def _edited(applied: Applied, by: str, at: datetime) -> ToolPanel | Comparison:
    """The edited record with a history entry for its changed fields (none when only claims were
    marked); for a comparison, each changed panel inside it gets its own entry too."""
    record = applied.record
    if not isinstance(record, Comparison):
        fields = applied.changed[record.tool.name]
        return with_history(record, by, fields, applied.previous[record.tool.name], at) if fields else record
    panels = []
    for panel in record.panels:
        fields = applied.changed[panel.tool.name]
        if fields:
            panel = with_history(panel, by, fields, applied.previous[panel.tool.name], at)
        panels.append(panel)
    record = record.model_copy(update={"panels": panels})
    every = [f"{name}: {f}" for name, fs in applied.changed.items() for f in fs]
    if not every:
        return record
    previous = {f"{name}: {k}": v for name, prev in applied.previous.items() for k, v in prev.items()}
    return with_history(record, by, every, previous, at)


def _carry_to_panel_file(
    edited: ToolPanel, applied: Applied, by: str, at: datetime, outputs: Any, personas: Sequence[Persona]
) -> list[tuple[Path, str]]:
    """Carry one tool's edits and claim marks from a comparison to its panel file."""
    from panel.grounding import ground
    from panel.records.store import file_version, load_record, write_record_if

    name = edited.tool.name
    fields = applied.changed[name]
    checks = [c for c in applied.checks if c.tool == name]
    panel_path = outputs.panel_path(name)
    version = file_version(panel_path)  # before reading: a change in between is a conflict
    if not (fields or checks) or version is None:
        return []
    loaded = load_record(panel_path, ToolPanel)
    if loaded.edited:
        return [(panel_path, "not updated: it was edited by hand; edit it too")]
    # As in the comparison: claims as the view listed them (before the edit), marked, then
    # recomputed for the edited text by _saved, which keeps each mark whose claim is still made.
    panel = ground.refresh(loaded.record, personas) if checks else loaded.record
    if fields:
        panel = with_history(_carry_over(panel, edited, fields), by, fields, applied.previous[name], at)
    marked: ToolPanel | Comparison = panel
    missing = []
    for check in checks:
        try:
            marked = mark_checked(marked, check, at)
        except InputError:
            missing.append(check.text)
    try:
        write_record_if(panel_path, _saved(marked, personas), version)
    except ConflictError:
        return [(panel_path, "not updated: it changed while saving; edit it too")]
    gone = f"; its review no longer makes the claim(s) {', '.join(map(repr, missing))}" if missing else ""
    return [(panel_path, "updated" + gone)]


def keep_rejected(path: Path, text: str) -> Path:
    """Keep an edit whose save was refused, so nothing typed is lost; returns where it went."""
    fd, kept = tempfile.mkstemp(prefix=f"panel-edit-{path.stem[:60]}-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(kept)


def save_check(
    path: Path,
    record: ToolPanel | Comparison,
    expect: str | None,
    claim: tuple[str, str, str],
    by: str,
    note: str,
    outputs: Outputs,
    personas: Sequence[Persona] = (),
) -> list[tuple[Path, str]]:
    """Mark one claim (tool, persona, claim text) checked and save, as `panel claims --check`
    and the desk both do: a compare-and-swap write of `record` (read at `expect`), and for a
    comparison the same mark in the tool's panel file, which comparisons are rebuilt from (left
    alone, and said so, when it was edited by hand, changed meanwhile, or no longer has the
    claim). `record` holds the claims as shown (grounding.refresh)."""
    from panel.grounding import ground
    from panel.records.store import file_version, load_record, write_record_if

    check = claim_check(*claim, by, note)
    marked = mark_checked(record, check)
    write_record_if(
        path, marked.model_copy(update={"revision": record.revision + 1, "checksum": None}), expect
    )
    written: list[tuple[Path, str]] = [(path, "updated")]
    if not isinstance(record, Comparison):
        return written
    panel_path = outputs.panel_path(check.tool)
    version = file_version(panel_path)
    if version is None or panel_path.resolve() == path.resolve():
        return written
    loaded = load_record(panel_path, ToolPanel)
    if loaded.edited:
        return [*written, (panel_path, "not updated: it was edited by hand; mark the claim there too")]
    try:
        panel = mark_checked(ground.refresh(loaded.record, personas), check)
        write_record_if(panel_path, _saved(panel, ()), version)
    except InputError:
        return [*written, (panel_path, "not updated: its review no longer makes that claim")]
    except ConflictError:
        return [*written, (panel_path, "not updated: it changed while saving; mark the claim there too")]
    return [*written, (panel_path, "updated")]
