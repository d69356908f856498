"""Every button on a record (POST /r/{rid}/{action}), in one table: what it runs and the role it
needs. The role is checked here, on the server, before anything runs; a refusal is a 403 that
changes nothing and is written to the audit log. After a record changes, the history entries it
wrote go to the audit log as they are (`AuditLog.log_changes`), so the two always agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from panel.records import Comparison, utcnow
from panel.records.store import published_slug
from panel.team.roles import Permission, allows
from panel.team.work import verdicts_of

from . import actions, workflow
from .context import ctx, denied, form_of, message, session_of
from .opening import current
from .pages import Found, lookup, not_found, record_page
from .workflow import Acting


@dataclass(frozen=True)
class Action:
    doing: str  # for a refusal: "Publishing needs the publisher role"
    run: Callable[[Acting], actions.Result]
    permission: Permission
    writes_record: bool = False  # its history entries go to the audit log


def _on_record(run: Callable[..., actions.Result]) -> Callable[[Acting], actions.Result]:
    """A record action of panel/desk/actions.py, with the account's name as the editor."""
    return lambda a: run(a.desk, a.rid, a.path, a.form, a.name)


ACTIONS: dict[str, Action] = {
    "save": Action("Saving edits", _on_record(actions.save), "review", writes_record=True),
    "check": Action("Marking a claim checked", _on_record(actions.check_claim), "review", writes_record=True),
    "votes": Action("Entering votes", _on_record(actions.set_votes), "review", writes_record=True),
    # a jury member's paragraph as the review's text
    "adopt": Action(
        "Adopting a jury member's paragraph", _on_record(actions.adopt), "review", writes_record=True
    ),
    "take": Action("Taking a draft", workflow.take, "review"),
    "hand-back": Action("Handing a draft back", workflow.hand_back, "review"),
    "request": Action("Asking for publication", workflow.request, "review"),
    "second-review": Action("A second review", workflow.second_review, "review"),
    "publish": Action("Publishing", _on_record(actions.publish), "publish", writes_record=True),
    "approve": Action("Approving", workflow.approve, "publish", writes_record=True),
    "send-back": Action("Sending a draft back", workflow.send_back, "publish"),
    "assign": Action("Assigning a draft", workflow.assign, "publish"),
}


async def act(request: Request) -> Response:
    name = request.path_params["action"]
    found = lookup(request)
    if found is None or name not in ACTIONS:
        return not_found(request)
    action = ACTIONS[name]
    who = session_of(request)
    if not allows(who.role, action.permission):
        return denied(request, action.doing, action.permission, found.rel)
    a = Acting(ctx(request), found.desk, found.rid, found.path, found.rel, form_of(request), who)
    since = utcnow()
    result = action.run(a)
    if action.writes_record:
        _after_write(a, name, result, since)
    return _respond(request, found, result)


def _files(a: Acting) -> tuple[list[Path], list[Path]]:
    """The files an action on this record may have written: the draft and a comparison's panel
    files (its edits are carried to them); and its published copy."""
    _, record = current(a.desk, a.path)
    if record is None:
        return [a.path], []
    outputs = a.desk.outputs
    files = [a.path]
    if isinstance(record, Comparison):
        files += [outputs.panel_path(p.tool.name) for p in record.panels]
    return files, [outputs.root / "published" / f"{published_slug(record)}.json"]


def _after_write(a: Acting, name: str, result: actions.Result, since: datetime) -> None:
    files, copies = _files(a)
    a.ctx.audit.log_changes(files, a.name, since, "desk", copies)
    if not workflow.ok(result):
        return
    if name in ("save", "adopt") and result.notice in ("saved", "adopted"):
        _, record = current(a.desk, a.path)
        if record is not None:  # what this person saved is their verdict on every review
            a.ctx.work.record_verdicts(a.rel, a.name, verdicts_of(record), "save")
        a.ctx.work.touch(a.rel, a.name)
    elif name in ("publish", "approve"):
        a.ctx.work.published(a.rel)


def _respond(request: Request, found: Found, result: actions.Result) -> Response:
    if result.view is not None:
        _, record = current(found.desk, found.path)
        if record is not None:
            return record_page(request, found, result.view, record, result.status)
    if result.message or result.view is not None:
        return message(request, result.status, "Not done", result.message or "This file does not validate.")
    return RedirectResponse(f"/r/{found.rid}?done={result.notice}", status_code=303)
