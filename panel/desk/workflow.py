"""What the team's buttons do: take a draft, hand it back, assign it, ask for publication, approve
(which publishes, through the same gate as `panel publish`), send back with a note, and give a
blind second review. Each writes to the team's store (panel/team/work.py) and the audit log,
never to a record, except approval, which is a publication. Roles were checked before any of
these runs (panel/desk/posts.py); what depends on the draft's state is checked here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from panel.editorial import publishing
from panel.editorial.validate import validate_file
from panel.errors import InputError
from panel.records import panels_of
from panel.team.accounts import valid_name
from panel.team.people import same_person
from panel.team.roles import allows
from panel.team.work import Held, verdicts_of

from . import actions
from .context import DeskContext
from .opening import Desk, current, form_values, has_unsaved, open_record, view_of
from .security import DeskSession

MAX_NOTE = 2000


@dataclass(frozen=True)
class Acting:
    """One POST on one record, by one person."""

    ctx: DeskContext
    desk: Desk
    rid: str
    path: Path
    rel: str
    form: Mapping[str, str]
    who: DeskSession

    @property
    def name(self) -> str:
        return self.who.editor

    def audit(self, action: str, note: str = "") -> None:
        self.ctx.audit.append(self.name, action, "desk", record=self.rel, note=note)  # type: ignore[arg-type]


def refused(a: Acting, status: int, text: str, keep_form: bool = False) -> actions.Result:
    """The record page again with `text` as its error; nothing written."""
    opened = open_record(a.desk, a.path)
    if opened.record is None:
        return actions.Result(status=status, message=text)
    view = view_of(a.desk, a.rid, opened, form_values(a.form) if keep_form else None)
    view.error = text
    return actions.Result(view=view, status=status)


def _not_a_draft(a: Acting) -> actions.Result | None:
    """Published records are nobody's work: only a draft that reads can be taken or assigned."""
    _, record = current(a.desk, a.path)
    if record is None:
        return actions.Result(status=409, message=actions.INVALID)
    if record.status == "published":
        return actions.Result(status=409, message=actions.PUBLISHED)
    return None


def take(a: Acting) -> actions.Result:
    if (refusal := _not_a_draft(a)) is not None:
        return refusal
    try:
        a.ctx.work.take(a.rel, a.name, a.ctx.policy().lock_window)
    except Held as exc:
        return refused(a, 409, f"Not taken: {exc.problem} ({exc.hint}).")
    a.audit("took")
    return actions.Result(notice="taken")


def hand_back(a: Acting) -> actions.Result:
    holder = a.ctx.work.state(a.rel).assignment
    if holder is None:
        return actions.Result(notice="unchanged")
    theirs = not same_person(holder.assignee, a.name)
    if theirs and not allows(a.who.role, "publish"):
        return refused(a, 403, f"Only {holder.assignee} or a publisher can hand this draft back.")
    a.ctx.work.hand_back(a.rel)
    a.audit("handed-back", f"for {holder.assignee}" if theirs else "")
    return actions.Result(notice="handed-back")


def assign(a: Acting) -> actions.Result:
    if (refusal := _not_a_draft(a)) is not None:
        return refusal
    try:
        name = valid_name(a.form.get("assignee", ""))
    except InputError:
        return refused(a, 422, "Choose who to assign the draft to.")
    account = a.ctx.accounts.get(name)
    if account is None and a.ctx.identity.proxy is None:
        return refused(a, 422, f"There is no user {name!r}: add them with `panel desk users add` first.")
    name = account.name if account is not None else name
    a.ctx.work.assign(a.rel, name, a.name)
    a.audit("assigned", f"to {name}")
    return actions.Result(notice="assigned")


def request(a: Acting) -> actions.Result:
    """Ask for publication: the draft must be publishable as it is, with nothing left unsaved."""
    version, record = current(a.desk, a.path)
    if version != a.form.get("version"):
        return actions.conflict(a.desk, a.rid, a.path, a.form)
    if record is None:
        return actions.Result(status=409, message=actions.INVALID)
    if record.status == "published":
        return actions.Result(status=409, message=actions.PUBLISHED)
    if has_unsaved(a.form, record):
        return refused(
            a, 422, "Not sent for approval: you have unsaved edits. Save them first.", keep_form=True
        )
    report = validate_file(a.path, a.desk.personas)
    reasons = publishing.refusals(report.record, a.desk.personas) if report.record is not None else []
    problems = [p.message for p in report.problems if ".claims[" not in p.path]
    if problems or reasons:
        return refused(
            a, 422, f"Not sent for approval: it cannot be published yet: {'; '.join(problems + reasons)}"
        )
    a.ctx.work.request(a.rel, a.name, record.revision)
    a.audit("requested", f"revision {record.revision}")
    return actions.Result(notice="requested")


def approve(a: Acting) -> actions.Result:
    """Publish a draft someone asked to publish, as `panel publish` would (four-eyes included)."""
    asked = a.ctx.work.state(a.rel).request
    if asked is None:
        return refused(a, 409, "Nothing awaits approval on this draft: publish it instead.")
    result = actions.publish(a.desk, a.rid, a.path, a.form, a.name)
    if ok(result):
        a.audit("approved", f"asked by {asked.by}")
    return result


def send_back(a: Acting) -> actions.Result:
    note = " ".join(a.form.get("note", "").split())[:MAX_NOTE]
    if not note:
        return refused(a, 422, "Not sent back: write a note saying what to change.")
    sent = a.ctx.work.send_back(a.rel, a.name, note)
    if sent is None:
        return refused(a, 409, "Nothing awaits approval on this draft.")
    a.audit("sent-back", f"to {sent.to}: {note}")
    return actions.Result(notice="sent-back")


def second_review(a: Acting) -> actions.Result:
    """A blind second review: this person's own verdict on every review, kept beside the first
    reviewer's; the record itself does not change."""
    _, record = current(a.desk, a.path)
    if record is None:
        return actions.Result(status=409, message=actions.INVALID)
    given = a.ctx.work.verdicts_for(a.rel)
    if any(same_person(p, a.name) for p in given):
        return refused(a, 409, "You have given your verdicts on this draft already.")
    units = verdicts_of(record)
    fields = [f"blind.{i}.{r.persona}" for i, p in enumerate(panels_of(record)) for r in p.reviews]
    mine = {unit: a.form.get(name, "") for unit, name in zip(units, fields, strict=True)}
    if not all(v in ("ship", "skip") for v in mine.values()):
        return actions.Result(status=422, message="Give a verdict, ship or skip, for every review.")
    a.ctx.work.record_verdicts(a.rel, a.name, mine, "blind")
    others = [p for p in given if not same_person(p, a.name)]
    agreed = sum(all(given[p].get(u) == v for p in others) for u, v in mine.items())
    a.audit("second-review", f"agreed with {', '.join(others) or 'nobody yet'} on {agreed} of {len(mine)}")
    return actions.Result(notice="second-review")


def ok(result: actions.Result) -> bool:
    """Whether an action did what it was asked (a redirect with a notice, or a page with one)."""
    return result.status < 400 and not result.message
