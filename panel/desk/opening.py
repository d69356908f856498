"""Reading a record for the desk: as a page shows it (validated like `panel validate`, claims
and flags recomputed) or, for an action, just its current version and content; the form's
fields in and out; and the conflict view when a save was based on an older version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from panel.editorial import editing, render
from panel.editorial.validate import KINDS, validate_file
from panel.errors import InputError
from panel.index.database import RecordIndex, RecordRow, record_id
from panel.records import Comparison, Persona, ToolPanel, panels_of
from panel.records.store import Outputs, file_version, load_record

from .views import RecordView, Theirs, field_name, record_view, when, word_diff

Record = ToolPanel | Comparison
REVIEW_FIELD = re.compile(r"^tools\[(\d{1,4})\]\.reviews\.([a-z][a-z0-9_-]{0,63})\.(score|verdict|review)$")
VOTE_FIELD = re.compile(r"^votes\.(\d{1,4})\.(ship|skip)$")
JSON_FIELD = re.compile(
    r"^\$(?:\.panels\[(\d+)\])?\.reviews\[(\d+)\](?:\.(score|verdict|review)|(\.claims\[\d+\]).*)$"
)


@dataclass
class Desk:
    """What every action needs: the outputs folder, the personas in effect, the index."""

    outputs: Outputs
    personas: list[Persona]
    index: RecordIndex

    @property
    def names(self) -> dict[str, str]:
        return {p.id: p.name for p in self.personas}

    def render(self, record: Record, fmt: render.Format) -> str:
        return render.render_page(record, fmt, self.names)

    def where(self, path: Path) -> str:
        try:
            return path.relative_to(self.outputs.root).as_posix()
        except ValueError:
            return path.name

    def row(self, path: Path) -> RecordRow | None:
        return self.index.get(record_id(self.where(path)))


@dataclass
class Opened:
    """A record as a page shows it."""

    path: Path
    version: str
    record: Record | None  # None when the file does not validate
    problems: dict[str, str]  # form field name (or JSON path) -> problem
    hand_edited: bool
    status: str | None = None  # the index's: draft, published or edited-since-published


def _field_of(json_path: str, record: Record | None) -> str:
    """A validation problem's JSON path as the form field it concerns (a claim's problem goes
    with its review), where there is one."""
    m = JSON_FIELD.match(json_path)
    if m is None or record is None:
        return json_path
    i, j = int(m.group(1) or 0), int(m.group(2))
    panels = panels_of(record)
    if i >= len(panels) or j >= len(panels[i].reviews):
        return json_path
    persona = panels[i].reviews[j].persona
    return field_name(i, persona, m.group(3)) if m.group(3) else f"tools[{i}].reviews.{persona}{m.group(4)}"


def open_record(desk: Desk, path: Path) -> Opened:
    """validate_file (what `panel validate` reports, claims and flags recomputed), for a page."""
    version = file_version(path) or ""  # read first: a change after this shows as a conflict
    report = validate_file(path, desk.personas)
    problems = {
        _field_of(p.path, report.record): p.message + (f" ({p.hint})" if p.hint else "")
        for p in report.errors
    }
    hand = any(note.startswith("edited by hand") for note in report.notes)
    row = desk.row(path)
    return Opened(path, version, report.record, problems, hand, row.status if row is not None else None)


def current(desk: Desk, path: Path) -> tuple[str, Record | None]:
    """The file's version and record, for an action (no schema pass, no claims): None when it
    does not load, which the page then explains."""
    version = file_version(path) or ""
    row = desk.row(path)
    if row is None or row.kind not in KINDS:
        return version, None
    try:
        return version, load_record(path, KINDS[row.kind]).record
    except InputError:
        return version, None


def view_of(
    desk: Desk,
    rid: str,
    opened: Opened,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    theirs: Mapping[tuple[int, str], Mapping[str, Theirs]] | None = None,
) -> RecordView:
    """The page of an opened record; `problems` adds to the file's own, `theirs` is a conflict's."""
    assert opened.record is not None
    return record_view(
        rid,
        opened.record,
        version=opened.version,
        where=desk.where(opened.path),
        hand_edited=opened.hand_edited,
        names=desk.names,
        values=values,
        problems={**opened.problems, **(problems or {})},
        theirs=theirs,
        status=opened.status,
    )


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The reviewer's typed values (reviews and votes), to put back in the form."""
    return {k: v for k, v in form.items() if REVIEW_FIELD.match(k) or VOTE_FIELD.match(k)}


def edits_from_form(form: Mapping[str, str], record: Record) -> dict[str, dict[str, dict[str, str]]]:
    """Form fields `tools[i].reviews.<persona>.<field>` as editing.apply_fields takes them."""
    panels = panels_of(record)
    edits: dict[str, dict[str, dict[str, str]]] = {}
    for name, value in form.items():
        m = REVIEW_FIELD.match(name)
        if m is None or int(m.group(1)) >= len(panels):
            continue
        tool = panels[int(m.group(1))].tool.name
        edits.setdefault(tool, {}).setdefault(m.group(2), {})[m.group(3)] = value
    return edits


def has_unsaved(form: Mapping[str, str], record: Record) -> bool:
    """Whether the form holds review edits not in the record (judged by apply_fields itself)."""
    try:
        applied = editing.apply_fields(record, edits_from_form(form, record))
    except InputError:
        return True
    return any(applied.changed.values())


def _norm(value: object) -> str:
    return str(value).replace("\r\n", "\n").strip()


def conflict_view(desk: Desk, rid: str, path: Path, form: Mapping[str, str]) -> RecordView | None:
    """The save was based on an older version: the page as the file is now, what changed since
    the reviewer opened it, every field they changed kept in the form, the fields only the other
    side changed taken from the file (the history's `previous` values tell which), and the other
    side's text diffed against theirs where both changed. Saving again applies theirs on top."""
    opened = open_record(desk, path)
    if opened.record is None:
        return None
    now_record = opened.record
    try:
        since: datetime | None = datetime.fromisoformat(form.get("opened", ""))
    except ValueError:
        since = None
    newer = [c for c in now_record.history if since is None or c.at > since]
    lines = [f"{c.by} {c.action} {', '.join(c.fields) or 'the record'} at {when(c.at)}" for c in newer]
    values = form_values(form)
    theirs: dict[tuple[int, str], dict[str, Theirs]] = {}
    comparison = isinstance(now_record, Comparison)
    for i, panel in enumerate(panels_of(now_record)):
        prefix = f"{panel.tool.name}: " if comparison else ""
        for entry in panel.reviews:
            for key in ("score", "verdict", "review"):
                name = field_name(i, entry.persona, key)
                if name not in values or _norm(values[name]) == _norm(getattr(entry, key)):
                    continue
                now = str(getattr(entry, key))
                path_key = f"{prefix}reviews.{entry.persona}.{key}"
                touched = [c for c in newer if path_key in c.previous]
                if touched and _norm(values[name]) == _norm(touched[0].previous[path_key]):
                    values[name] = now  # only the other side changed it: take theirs
                    continue
                who = f"changed by {touched[-1].by}" if touched else "as the file is now"
                theirs.setdefault((i, entry.persona), {})[key] = Theirs(
                    label=f"Now on disk ({who}); your text is in the field, changes marked against it",
                    diff=word_diff(now, values[name]),
                )
    view = view_of(desk, rid, opened, values, theirs=theirs)
    view.conflict = lines or ["The file was changed outside panel (no history entry says by whom)."]
    view.error = (
        "Not saved: this record changed since you opened it. Your text is still in the form; "
        "review the changes below, then save again."
    )
    return view
