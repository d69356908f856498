"""What the desk's buttons do. Each goes through the functions the CLI uses: editing.apply_fields
and saving.save_edit (as `panel edit`), saving.save_check (as `panel claims --check`),
votes.set_votes and publishing.publish (as `panel publish`); every write is a compare-and-swap
on the file version the page was opened with (store.write_record_if), so a save based on an
older copy is refused and shown as a conflict with the reviewer's text kept in the form. Records
written here are re-indexed by panel.records.store itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from panel.editorial import editing, publishing, saving
from panel.editorial.votes import MAX_COUNT
from panel.editorial.votes import set_votes as apply_votes
from panel.errors import ConflictError, InputError, PanelError
from panel.grounding import ground
from panel.records import Comparison, panels_of
from panel.records.store import write_record_if

from .opening import (
    Desk,
    Opened,
    Record,
    conflict_view,
    current,
    edits_from_form,
    form_values,
    has_unsaved,
    open_record,
    view_of,
)
from .views import NOTICES, RecordView

INVALID = (
    "This file does not validate, so the desk cannot change it: open it to see the problems, then "
    "fix it with `panel edit` or by hand."
)
PUBLISHED = "Published records never change: edit the draft and publish again."


@dataclass
class Result:
    """A redirect to the record page with a notice, or a page to show, or a message."""

    notice: str = ""
    view: RecordView | None = None
    status: int = 200
    message: str = ""


def conflict(desk: Desk, rid: str, path: Path, form: Mapping[str, str]) -> Result:
    view = conflict_view(desk, rid, path, form)
    return Result(view=view, status=409) if view is not None else Result(status=409, message=INVALID)


def _problem(
    desk: Desk,
    rid: str,
    path: Path,
    form: Mapping[str, str],
    message: str,
    problems: Mapping[str, str] | None = None,
) -> Result:
    """The page again, with the reviewer's typed values and what went wrong; nothing written."""
    opened = open_record(desk, path)
    if opened.record is None:
        return Result(status=422, message=message)
    view = view_of(desk, rid, opened, form_values(form), problems)
    view.error = message
    return Result(view=view, status=422)


def _after_write(desk: Desk, rid: str, path: Path, form: Mapping[str, str], notice: str) -> Result:
    """After a claim check or votes: any unsaved review edits stay in the form, unsaved."""
    _, record = current(desk, path)
    if record is None or not has_unsaved(form, record):
        return Result(notice=notice)
    view = view_of(desk, rid, open_record(desk, path), form_values(form))
    view.notice = NOTICES[notice] + " Your unsaved edits are still in the form: save them when ready."
    return Result(view=view)


def _changeable(
    desk: Desk, rid: str, path: Path, form: Mapping[str, str]
) -> tuple[str | None, Record] | Result:
    """The record at the version the reviewer opened, or the Result that refuses any change to
    it: a newer version on disk (the conflict view), a file that no longer reads, a published
    record (never changed)."""
    version, record = current(desk, path)
    if version != form.get("version"):
        return conflict(desk, rid, path, form)
    if record is None:
        return Result(status=409, message=INVALID)
    if record.status == "published":
        return Result(status=409, message=PUBLISHED)
    return version, record


def save(desk: Desk, rid: str, path: Path, form: Mapping[str, str], by: str) -> Result:
    """Save the review fields: editing.apply_fields, then saving.save_edit, as `panel edit`."""
    opened = _changeable(desk, rid, path, form)
    if isinstance(opened, Result):
        return opened
    version, record = opened
    try:
        applied = editing.apply_fields(record, edits_from_form(form, record))
    except editing.EditProblems as exc:
        return _problem(
            desk, rid, path, form, "Not saved: fix the fields marked below.", problems=exc.problems
        )
    if not any(applied.changed.values()):
        return Result(notice="unchanged")
    try:
        saving.save_edit(path, applied, by, desk.outputs, version, desk.personas)
    except ConflictError:
        return conflict(desk, rid, path, form)
    return Result(notice="saved")


def check_claim(desk: Desk, rid: str, path: Path, form: Mapping[str, str], by: str) -> Result:
    """Mark one claim checked (saving.save_check, as `panel claims --check`), with a note."""
    opened = _changeable(desk, rid, path, form)
    if isinstance(opened, Result):
        return opened
    version, record = opened
    record = ground.refresh(record, desk.personas)  # the claims the page listed
    i_text, _, rest = form.get("claim", "").partition("/")
    persona, _, k_text = rest.partition("/")
    panels = panels_of(record)
    i = int(i_text) if i_text.isdigit() and int(i_text) < len(panels) else None
    review = panels[i].review_for(persona) if i is not None else None
    if i is None or review is None or not k_text.isdigit() or int(k_text) >= len(review.claims):
        return _problem(desk, rid, path, form, "That claim is no longer in the review; reload the page.")
    note = " ".join(form.get(f"note.{i}.{persona}.{k_text}", "").split())[:2000]
    claim = (panels[i].tool.name, persona, review.claims[int(k_text)].text)
    try:
        saving.save_check(path, record, version, claim, by, note, desk.outputs, desk.personas)
    except ConflictError:
        return conflict(desk, rid, path, form)
    return _after_write(desk, rid, path, form, "checked")


def set_votes(desk: Desk, rid: str, path: Path, form: Mapping[str, str], by: str) -> Result:
    """Community votes for one tool (votes.set_votes): shown beside the verdict, never decisive."""
    opened = _changeable(desk, rid, path, form)
    if isinstance(opened, Result):
        return opened
    version, record = opened
    if not isinstance(record, Comparison):
        return Result(status=409, message="Only comparisons have community votes.")
    i = form.get("vote", "")
    counts = [form.get(f"votes.{i}.{side}", "").strip() for side in ("ship", "skip")]
    if not i.isdigit() or int(i) >= len(record.panels):
        return _problem(desk, rid, path, form, "Unknown tool for these votes; reload the page.")
    if not all(c.isdigit() and int(c) <= MAX_COUNT for c in counts):
        return _problem(
            desk, rid, path, form, f"Votes are whole numbers from 0 to {MAX_COUNT:,}; nothing was saved."
        )
    try:
        voted = apply_votes(record, record.panels[int(i)].tool.name, int(counts[0]), int(counts[1]), by)
    except PanelError as exc:
        return _problem(desk, rid, path, form, exc.line())
    if voted is record:  # the same counts: nothing to write
        return _after_write(desk, rid, path, form, "unchanged")
    try:
        write_record_if(path, voted, version)
    except ConflictError:
        return conflict(desk, rid, path, form)
    return _after_write(desk, rid, path, form, "voted")


def publish(desk: Desk, rid: str, path: Path, form: Mapping[str, str], by: str) -> Result:
    """publishing.publish, as `panel publish` runs it, on exactly the version the reviewer saw."""
    version, record = current(desk, path)
    if version != form.get("version"):
        return conflict(desk, rid, path, form)
    if record is not None and has_unsaved(form, record):
        return _problem(desk, rid, path, form, "Not published: you have unsaved edits. Save them first.")
    try:
        result = publishing.publish(path, desk.outputs, desk.personas, by, desk.render, expect=version)
    except ConflictError:
        return conflict(desk, rid, path, form)
    except InputError as exc:
        return _problem(desk, rid, path, form, exc.line())
    notice = "published" if result.status == "published" else "published-unchanged"
    if not result.warnings:
        return Result(notice=notice)
    view = view_of(desk, rid, open_record(desk, path))
    view.notice = NOTICES[notice]
    view.warnings = list(result.warnings)
    return Result(view=view)


__all__ = ["Desk", "Opened", "Result", "check_claim", "publish", "save", "set_votes"]
