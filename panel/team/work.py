"""Who works on which draft: assignments with their soft lock, requests for publication, notes
sent back, and each person's verdicts (what `panel stats` measures agreement on).

An SQLite file, `<outputs>/.team/work.sqlite3`, beside the records: the desk and the CLI share it,
and it answers "my drafts" and "awaiting approval" without reading records. Records are named by
their path relative to the outputs folder. Nothing here is ever part of a record: the records
keep their own history, and the audit log says who did what.

A soft lock: a draft taken by someone is theirs while they are active on it (opening or saving it
keeps it fresh); after the policy's quiet period it is released, and anyone may take it over. A
lock never stops a save: the records' compare-and-swap rule stays as it is.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from panel.core.transactions import tx
from panel.errors import ConflictError
from panel.records import Comparison, ToolPanel, panels_of, utcnow
from panel.team.folder import ensure, team_dir
from panel.team.people import person_key, same_person

WORK_FILE = "work.sqlite3"
Source = Literal["save", "blind"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS assignment (
        record TEXT PRIMARY KEY, assignee TEXT NOT NULL, assignee_key TEXT NOT NULL,
        assigned_by TEXT NOT NULL, assigned_at TEXT NOT NULL, active_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS assignment_by_person ON assignment (assignee_key)",
    """CREATE TABLE IF NOT EXISTS request (
        record TEXT PRIMARY KEY, by TEXT NOT NULL, at TEXT NOT NULL, revision INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sent_back (
        record TEXT PRIMARY KEY, by TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL,
        to_user TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS verdict (
        record TEXT NOT NULL, person TEXT NOT NULL, person_key TEXT NOT NULL, unit TEXT NOT NULL,
        verdict TEXT NOT NULL, at TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (record, person_key, unit))""",
)


@dataclass(frozen=True)
class Assignment:
    assignee: str
    by: str
    at: datetime
    active_at: datetime

    def held(self, now: datetime, quiet: timedelta) -> bool:
        """The soft lock: the assignee was active on it within the quiet period."""
        return now - self.active_at < quiet


@dataclass(frozen=True)
class Request:
    by: str
    at: datetime
    revision: int


@dataclass(frozen=True)
class SentBack:
    by: str
    at: datetime
    note: str
    to: str


@dataclass(frozen=True)
class WorkState:
    assignment: Assignment | None = None
    request: Request | None = None
    sent_back: SentBack | None = None


class Held(ConflictError):
    """Someone else holds the draft's lock."""


def verdicts_of(record: ToolPanel | Comparison) -> dict[str, str]:
    """The record's verdicts as one person's judgement: {"Tool: persona": verdict}."""
    return {f"{p.tool.name}: {r.persona}": r.verdict for p in panels_of(record) for r in p.reviews}


def _ts(at: datetime) -> str:
    return at.isoformat()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


class WorkStore:
    def __init__(self, root: Path, *, read_only: bool = False):
        self.path = team_dir(root) / WORK_FILE
        self._root = root
        self._read_only = read_only
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    @classmethod
    def existing(cls, root: Path) -> WorkStore | None:
        """The folder's store to read, or None when nobody has used one there (nothing is made)."""
        store = cls(root, read_only=True)
        return store if store.path.is_file() else None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            if self._read_only:
                conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, timeout=10, check_same_thread=False
                )
            else:
                ensure(self._root)
                conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    conn.execute(statement)
            self._db = conn
        return self._db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), so a read-then-write is atomic."""
        with self._lock, tx(self._conn()) as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- reading ---------------------------------------------------------------------------

    def states(self, records: Sequence[str]) -> dict[str, WorkState]:
        """The workflow state of each record (those with none are left out)."""
        if not records:
            return {}
        with self._lock:
            conn = self._conn()
            wanted = list(dict.fromkeys(records))
            marks = ",".join("?" * len(wanted))
            found: dict[str, dict[str, object]] = {}
            for row in conn.execute(f"SELECT * FROM assignment WHERE record IN ({marks})", wanted):  # noqa: S608
                found.setdefault(row[0], {})["assignment"] = Assignment(
                    row[1], row[3], _dt(row[4]), _dt(row[5])
                )
            for row in conn.execute(f"SELECT * FROM request WHERE record IN ({marks})", wanted):  # noqa: S608
                found.setdefault(row[0], {})["request"] = Request(row[1], _dt(row[2]), row[3])
            for row in conn.execute(f"SELECT * FROM sent_back WHERE record IN ({marks})", wanted):  # noqa: S608
                found.setdefault(row[0], {})["sent_back"] = SentBack(row[1], _dt(row[2]), row[3], row[4])
        return {record: WorkState(**parts) for record, parts in found.items()}  # type: ignore[arg-type]

    def state(self, record: str) -> WorkState:
        return self.states([record]).get(record, WorkState())

    def assigned_to(self, person: str) -> list[str]:
        with self._lock:
            rows = self._conn().execute(
                "SELECT record FROM assignment WHERE assignee_key = ? ORDER BY assigned_at",
                (person_key(person),),
            )
            return [r[0] for r in rows]

    def awaiting(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn().execute("SELECT record FROM request ORDER BY at")]

    def counts(self, person: str) -> tuple[int, int]:
        """(drafts assigned to `person`, drafts awaiting approval), for the queue's tabs."""
        with self._lock:
            conn = self._conn()
            mine = conn.execute(
                "SELECT count(*) FROM assignment WHERE assignee_key = ?", (person_key(person),)
            )
            awaiting = conn.execute("SELECT count(*) FROM request")
            return mine.fetchone()[0], awaiting.fetchone()[0]

    # -- assignments and locks -------------------------------------------------------------

    def _set_assignment(
        self, conn: sqlite3.Connection, record: str, person: str, by: str, now: datetime
    ) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO assignment VALUES (?, ?, ?, ?, ?, ?)",
            (record, person, person_key(person), by, _ts(now), _ts(now)),
        )

    def take(self, record: str, person: str, quiet: timedelta, now: datetime | None = None) -> Assignment:
        """Assign the draft to `person` themselves; Held if someone else's lock is live."""
        now = now or utcnow()
        with self._tx() as conn:
            current = self._assignment(conn, record)
            if current is not None and not same_person(current.assignee, person) and current.held(now, quiet):
                raise Held(
                    f"{current.assignee} has this draft (taken {current.at:%H:%M} UTC, "
                    f"last active {current.active_at:%H:%M} UTC)",
                    hint="ask them to hand it back, wait until their lock is released, "
                    "or ask a publisher to assign it to you",
                )
            self._set_assignment(conn, record, person, person, now)
        return Assignment(person, person, now, now)

    def assign(self, record: str, person: str, by: str, now: datetime | None = None) -> Assignment:
        """A publisher's assignment: to anyone, whoever held it."""
        now = now or utcnow()
        with self._tx() as conn:
            self._set_assignment(conn, record, person, by, now)
        return Assignment(person, by, now, now)

    def hand_back(self, record: str) -> Assignment | None:
        with self._tx() as conn:
            current = self._assignment(conn, record)
            conn.execute("DELETE FROM assignment WHERE record = ?", (record,))
        return current

    def touch(self, record: str, person: str, now: datetime | None = None) -> None:
        """The assignee is active on the draft: their lock stays fresh."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE assignment SET active_at = ? WHERE record = ? AND assignee_key = ?",
                (_ts(now or utcnow()), record, person_key(person)),
            )

    def _assignment(self, conn: sqlite3.Connection, record: str) -> Assignment | None:
        row = conn.execute(
            "SELECT assignee, assigned_by, assigned_at, active_at FROM assignment WHERE record = ?", (record,)
        ).fetchone()
        return Assignment(row[0], row[1], _dt(row[2]), _dt(row[3])) if row else None

    # -- approval --------------------------------------------------------------------------

    def request(self, record: str, by: str, revision: int, now: datetime | None = None) -> Request:
        now = now or utcnow()
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO request VALUES (?, ?, ?, ?)", (record, by, _ts(now), revision)
            )
            conn.execute("DELETE FROM sent_back WHERE record = ?", (record,))
        return Request(by, now, revision)

    def send_back(self, record: str, by: str, note: str, now: datetime | None = None) -> SentBack | None:
        """Close the request with a note, and give the draft back to who asked; None if none was open."""
        now = now or utcnow()
        with self._tx() as conn:
            row = conn.execute("SELECT by FROM request WHERE record = ?", (record,)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM request WHERE record = ?", (record,))
            conn.execute(
                "INSERT OR REPLACE INTO sent_back VALUES (?, ?, ?, ?, ?)",
                (record, by, _ts(now), note, row[0]),
            )
            self._set_assignment(conn, record, row[0], by, now)
        return SentBack(by, now, note, row[0])

    def published(self, record: str) -> None:
        """The draft is published: its assignment, request and note are done with."""
        with self._tx() as conn:
            for table in ("assignment", "request", "sent_back"):
                conn.execute(f"DELETE FROM {table} WHERE record = ?", (record,))  # noqa: S608 - constant names

    # -- verdicts --------------------------------------------------------------------------

    def record_verdicts(
        self,
        record: str,
        person: str,
        verdicts: Mapping[str, str],
        source: Source,
        now: datetime | None = None,
    ) -> None:
        """`person`'s verdict on each review of the record (`unit`: "Tool: persona"). A blind
        verdict stands: a later save by the same person does not replace it, so what they judged
        without seeing the first review is what agreement is measured on."""
        at = _ts(now or utcnow())
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO verdict VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (record, person_key, unit) DO UPDATE SET person = excluded.person, "
                "verdict = excluded.verdict, at = excluded.at, source = excluded.source "
                "WHERE verdict.source = 'save' OR excluded.source = 'blind'",
                [(record, person, person_key(person), unit, v, at, source) for unit, v in verdicts.items()],
            )

    def verdicts_for(self, record: str) -> dict[str, dict[str, str]]:
        """{person: {unit: verdict}} for one record, people in the order they first gave one."""
        out: dict[str, dict[str, str]] = {}
        with self._lock:
            rows = self._conn().execute(
                "SELECT person, unit, verdict FROM verdict WHERE record = ? ORDER BY at, person_key",
                (record,),
            )
            for person, unit, verdict in rows:
                out.setdefault(person, {})[unit] = verdict
        return out

    def all_verdicts(self) -> Iterator[tuple[str, str, str, str]]:
        """(record, person key, unit, verdict) for every verdict given."""
        with self._lock:
            try:
                rows = (
                    self._conn().execute("SELECT record, person_key, unit, verdict FROM verdict").fetchall()
                )
            except sqlite3.OperationalError:  # a store made before verdicts were kept
                rows = []
        yield from rows
