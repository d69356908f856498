"""The audit log: `<outputs>/.team/audit.jsonl`, one JSON line per action, only ever appended to.

Who did what, when, to which record, through which door (the desk or the CLI): sign-ins, taking
and handing back drafts, saves, claim checks, votes, requests, approvals, publications, user and
policy changes, and refused attempts. A change to a record is logged from the history entry it
wrote, with that entry's time, person, action and fields (`log_changes`), so the history and the
log agree by construction: every history entry a person made through panel has exactly one line
here, for the file it is in. Tokens and passwords never appear.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError

from panel.core.files import exclusive
from panel.records import Change, Record, utcnow
from panel.team.folder import ensure, team_dir
from panel.team.people import same_person

AUDIT_FILE = "audit.jsonl"
TAIL_BYTES = 256 * 1024  # how far back `log_changes` looks for lines it already wrote
RecordAction = Literal["edited", "checked", "voted", "published"]
AuditAction = Literal[
    "signed-in",
    "signed-out",
    "took",
    "handed-back",
    "assigned",
    "requested",
    "approved",
    "sent-back",
    "second-review",
    "user-added",
    "user-removed",
    "user-reset",
    "policy-changed",
    "denied",
    "edited",
    "checked",
    "voted",
    "published",
]
ACTIONS: tuple[str, ...] = get_args(AuditAction)
RECORD_ACTIONS: tuple[str, ...] = get_args(RecordAction)  # the history's own, by people
Door = Literal["desk", "cli"]


class AuditEntry(Record):
    at: datetime = Field(default_factory=utcnow)
    user: str
    action: AuditAction
    record: str = ""  # the file, relative to the outputs folder
    via: Door
    fields: list[str] = Field(default_factory=list)
    note: str = ""

    def key(self) -> tuple[str, str, str, str, tuple[str, ...], str]:
        return (self.record, self.at.isoformat(), self.user, self.action, tuple(self.fields), self.note)

    def line(self) -> str:
        """The entry for people: time, who, what, which record, details."""
        parts = [self.at.strftime("%Y-%m-%d %H:%M:%S"), self.user, self.action]
        if self.record:
            parts.append(self.record)
        text = " ".join(parts)
        if self.fields:
            text += f" ({', '.join(self.fields)})"
        if self.note:
            text += f" — {self.note}"
        return " ".join(text.split()) + f" [{self.via}]"


@dataclass(frozen=True)
class BadLine:
    number: int
    problem: str


class AuditLog:
    def __init__(self, root: Path):
        self.root = root
        self.path = team_dir(root) / AUDIT_FILE

    def _lock(self) -> Any:
        ensure(self.root)
        return exclusive(team_dir(self.root) / ".audit.lock")

    def _append(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        data = "".join(json.dumps(e.model_dump(mode="json"), ensure_ascii=False) + "\n" for e in entries)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(
        self,
        user: str,
        action: AuditAction,
        via: Door,
        record: str = "",
        fields: Sequence[str] = (),
        note: str = "",
    ) -> AuditEntry:
        entry = AuditEntry(
            user=user,
            action=action,
            via=via,
            record=record,
            fields=list(fields),
            note=" ".join(note.split())[:2000],
        )
        with self._lock():
            self._append([entry])
        return entry

    def relative(self, path: Path) -> str:
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)).as_posix()  # noqa: PTH100
        except ValueError:
            return str(path)

    def log_changes(
        self, files: Iterable[Path], by: str, since: datetime, via: Door, copies: Iterable[Path] = ()
    ) -> list[AuditEntry]:
        """Log the history entries `by` made in `files` at or after `since` that are not logged yet:
        one line each, with the entry's own time, action, fields and note. `copies` (published
        copies) repeat their draft's history: only what they add (the publication) is theirs."""
        with self._lock():
            found = self._found(files, by, since, via)
            drafts = {e.key()[1:] for e in found}
            found += [e for e in self._found(copies, by, since, via) if e.key()[1:] not in drafts]
            logged = Counter(e.key() for e in self._tail() if e.at >= since)
            new = []
            for entry in found:
                if logged[entry.key()]:
                    logged[entry.key()] -= 1
                else:
                    new.append(entry)
            self._append(new)
        return new

    def _found(self, files: Iterable[Path], by: str, since: datetime, via: Door) -> list[AuditEntry]:
        return [
            AuditEntry(
                at=c.at,
                user=c.by,
                action=c.action,
                record=self.relative(path),
                via=via,
                fields=c.fields,
                note=c.note,
            )
            for path in dict.fromkeys(files)
            for c in _history(path)
            if c.action in RECORD_ACTIONS and c.at >= since and same_person(c.by, by)
        ]

    def _tail(self) -> list[AuditEntry]:
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - TAIL_BYTES))
                data = handle.read()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        if size > TAIL_BYTES:
            lines = lines[1:]  # the first is cut
        return [e for e in (_entry(line) for line in lines if line.strip()) if isinstance(e, AuditEntry)]

    def read(self) -> Iterator[AuditEntry | BadLine]:
        """Every line, oldest first; a line that is not an entry comes back as a BadLine."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    entry = _entry(line)
                    yield entry if isinstance(entry, AuditEntry) else BadLine(number, entry)


def _entry(line: bytes) -> AuditEntry | str:
    try:
        return AuditEntry.model_validate_json(line)
    except ValidationError as exc:
        return f"not an audit entry ({exc.error_count()} problems)"


def _history(path: Path) -> list[Change]:
    """A record file's history entries, read without validating the rest of it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Change.model_validate(c) for c in data.get("history", [])]
    except (OSError, ValueError, AttributeError):
        return []


def matches(
    entry: AuditEntry,
    *,
    user: str | None = None,
    action: str | None = None,
    record: str | None = None,
    since: datetime | None = None,
) -> bool:
    """The filters of `panel desk audit`: a user (any case), an action, part of a record's path,
    entries at or after a moment."""
    return (
        (user is None or same_person(entry.user, user))
        and (action is None or entry.action == action)
        and (record is None or record.casefold() in entry.record.casefold())
        and (since is None or entry.at >= since)
    )
