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
from typing import TYPE_CHECKING, Any

from panel.editorial.editing import Applied
from panel.errors import ConflictError, InputError
from panel.records import Change, Comparison, Persona, RecordT, ToolPanel, utcnow

if TYPE_CHECKING:
    from panel.records.store import Outputs


def with_history(
    record: RecordT, by: str, fields: list[str], previous: dict[str, Any], at: datetime | None = None
) -> RecordT:
    """`record` with a history entry: `by` edited `fields`, whose old values are in `previous`."""
    at = at or utcnow()
    change = Change(at=at, by=by, action="edited", fields=fields, previous=previous)
    return record.model_copy(update={"history": [*record.history, change], "updated_at": at})


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
    write nothing. A comparison's edits then go to each tool's panel file too, the source every
    comparison is rebuilt from, so a later `panel compare` keeps them; a panel file that changed
    meanwhile or was edited by hand is left alone, and the result says so."""
    from panel.records.store import file_version, load_record, write_record_if

    record = applied.record
    at = utcnow()  # one moment for every copy of the change
    carry: list[tuple[ToolPanel, list[str]]] = []
    if isinstance(record, Comparison):
        panels = []
        for panel in record.panels:
            fields = applied.changed[panel.tool.name]
            if fields:
                panel = with_history(panel, by, fields, applied.previous[panel.tool.name], at)
                carry.append((panel, fields))
            panels.append(panel)
        every = [f"{name}: {f}" for name, fs in applied.changed.items() for f in fs]
        previous = {f"{name}: {k}": v for name, prev in applied.previous.items() for k, v in prev.items()}
        record = with_history(record.model_copy(update={"panels": panels}), by, every, previous, at)
    else:
        name = record.tool.name
        record = with_history(record, by, applied.changed[name], applied.previous[name], at)
    write_record_if(path, _saved(record, personas), expect)
    written: list[tuple[Path, str]] = [(path, "updated")]
    for panel, fields in carry:
        panel_path = outputs.panel_path(panel.tool.name)
        version = file_version(panel_path)  # before reading: a change in between is a conflict
        if version is None:
            continue
        loaded = load_record(panel_path, ToolPanel)
        if loaded.edited:
            written.append((panel_path, "not updated: it was edited by hand; edit it too"))
            continue
        updated = with_history(
            _carry_over(loaded.record, panel, fields), by, fields, applied.previous[panel.tool.name], at
        )
        try:
            write_record_if(panel_path, _saved(updated, personas), version)
        except ConflictError:
            written.append((panel_path, "not updated: it changed while saving; edit it too"))
            continue
        written.append((panel_path, "updated"))
    return written


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

    tool, persona, text = claim
    marked = ground.mark_checked(record, tool, persona, text, by, note)
    write_record_if(
        path, marked.model_copy(update={"revision": record.revision + 1, "checksum": None}), expect
    )
    written: list[tuple[Path, str]] = [(path, "updated")]
    if not isinstance(record, Comparison):
        return written
    panel_path = outputs.panel_path(tool)
    version = file_version(panel_path)
    if version is None or panel_path.resolve() == path.resolve():
        return written
    loaded = load_record(panel_path, ToolPanel)
    if loaded.edited:
        return [*written, (panel_path, "not updated: it was edited by hand; mark the claim there too")]
    try:
        panel = ground.mark_checked(ground.refresh(loaded.record, personas), tool, persona, text, by, note)
        write_record_if(panel_path, _saved(panel, ()), version)
    except InputError:
        return [*written, (panel_path, "not updated: its review no longer makes that claim")]
    except ConflictError:
        return [*written, (panel_path, "not updated: it changed while saving; mark the claim there too")]
    return [*written, (panel_path, "updated")]
