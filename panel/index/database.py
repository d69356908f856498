"""The record index: one SQLite file of every record's summary fields, kept in step with the files.

The files stay the source of truth; the index at `<outputs>/.index.sqlite3` only saves reading
them. Deleting it costs a rebuild, nothing else. It serves the review desk's queue (`query`,
`get`) and `panel stats` (the per-review table), so neither reads texts or holds every record in
memory. Several processes use it at once (CLI commands, the desk, a nightly batch): WAL mode, and
short write transactions, with the slow part (reading and grounding a file) done outside them.

It stays in step three ways: `sync()` walks the folder and re-reads what changed (mtime and
size, then the content digest) or went away; every JSON file written in a process whose entry
point (the CLI, the desk, the test fixtures) registered `record_written` as a write listener
(panel.core.files) is re-indexed at once, the store knowing nothing of it, and without grounding
the record again (grounding's memo, panel/grounding/ground.py, hands back what the writer
computed); and when the personas or the grounding code change, every file is read again. An
index that is locked, unwritable or corrupt never fails a command: a corrupt one is rebuilt,
and readers fall back to a private temporary index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from panel.core.files import exclusive
from panel.errors import InputError
from panel.index.aggregates import StatsReader
from panel.index.facts import FLAGS, RECORD_FOLDERS
from panel.index.schema import SCHEMA, SCHEMA_VERSION, TABLES
from panel.index.sync import Syncer, SyncReport, personas_in_effect, record_id, relative, tx
from panel.records import Persona

__all__ = [
    "DB_NAME",
    "FLAGS",
    "IndexUnavailable",
    "QueryPage",
    "RecordIndex",
    "RecordRow",
    "SyncReport",
    "for_stats",
    "record_id",
    "record_written",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DB_NAME = ".index.sqlite3"  # hidden: the stats walk and the temp-file sweep pass dot-files by
KINDS = ("panel", "comparison")
STATUSES = ("draft", "published", "edited-since-published")
SORTS = {
    "changed": "r.changed_ts",
    "updated": "r.updated_ts",
    "title": "r.title_lc",
    "revision": "r.revision",
}
MAX_LIMIT = 500


class IndexUnavailable(Exception):
    """The index cannot be used right now (locked past the timeout, unwritable folder)."""


@dataclass(frozen=True)
class RecordRow:
    """One record in the desk's queue. `status`: "published" for a published copy and for a draft
    whose content is the same as its published copy; "edited-since-published" for a draft that
    differs from it; "draft" for one never published."""

    id: str  # stable and URL-safe, derived from the relative path; never a path itself
    path: Path  # absolute path of the file, from the folder walk (never from a URL)
    kind: str
    title: str
    tools: tuple[str, ...]
    status: str
    revision: int
    updated_at: str
    last_change_by: str | None
    last_change_at: str | None
    last_change_action: str | None
    flags: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryPage:
    rows: list[RecordRow]
    total: int


class RecordIndex:
    def __init__(
        self,
        root: Path,
        *,
        db_path: Path | None = None,
        personas: Sequence[Persona] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.root = Path(os.path.abspath(root))  # noqa: PTH100 - normalised, links kept
        self.db_path = db_path or self.root / DB_NAME
        self._personas = list(personas) if personas is not None else None
        self._timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection, shared by the desk's threads

    # -- connection ------------------------------------------------------------------------

    @property
    def personas(self) -> list[Persona]:
        if self._personas is None:
            self._personas = personas_in_effect()
        return self._personas

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            conn = sqlite3.connect(
                self.db_path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA temp_store=FILE")  # sorts and the sync's walk spill to disk
                # Two processes opening a new index at once (the desk's first query beside its
                # own sync) would race to switch it to WAL, and the loser gets "database is
                # locked" at once, without waiting: set it up one connection at a time.
                with exclusive(Path(f"{self.db_path}.setup")):
                    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        conn.execute("PRAGMA journal_mode=WAL")
                    self._prepare(conn)
            except BaseException:
                conn.close()
                raise
            self._db = conn
        return self._db

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the tables, or start again when they are from another version of panel."""
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError:  # no tables yet
            row = None
        if row is not None and row[0] == SCHEMA_VERSION:
            return
        with tx(conn):
            for table in TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _discard(self) -> None:
        """Drop a corrupt index file; the next use builds a new one from the records."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)

    def _guarded(self, action: Callable[..., T], *args: object) -> T:
        """Run an index operation; rebuild once if the file is corrupt; IndexUnavailable if it
        is locked or cannot be written."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return action(*args)
                except sqlite3.OperationalError as exc:
                    self.close()
                    raise IndexUnavailable(f"{self.db_path}: {exc}") from exc
                except sqlite3.DatabaseError as exc:  # not a database, malformed image
                    log.warning("record index %s is corrupt (%s); rebuilding it", self.db_path, exc)
                    self._discard()
                    if attempt == 2:
                        raise IndexUnavailable(f"{self.db_path}: {exc}") from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> RecordIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keeping in step ---------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Pick up new, changed (mtime_ns and size, then content digest) and deleted files.

        One sync at a time per index: a second process waits for the first (e.g. the desk
        starting while `panel stats` builds the index) and then finds everything current,
        instead of reading every file again. Writes (`update`) go on meanwhile.
        """
        with exclusive(Path(f"{self.db_path}.sync")):
            return self._guarded(lambda: Syncer(self._conn(), self.root, self.personas).sync())

    def update(self, path: Path) -> None:
        """Re-index one file now (panel calls this after writing it); a deleted file is dropped."""
        self._guarded(lambda: Syncer(self._conn(), self.root, self.personas).update(path))

    # -- the desk's queue --------------------------------------------------------------------

    def query(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        flag: str | None = None,
        search: str | None = None,
        sort: str = "-changed",
        offset: int = 0,
        limit: int = 50,
        ids: Sequence[str] | None = None,
    ) -> QueryPage:
        """One page of the queue: filtered by kind, status and flag, searched by tool name
        (case-insensitive substring), sorted by a column ("-" first: newest/highest first);
        with `ids`, only those records (the desk's "my drafts", "awaiting approval")."""
        _choice("kind", kind, KINDS)
        _choice("status", status, STATUSES)
        _choice("flag", flag, FLAGS)
        _choice("sort", sort.removeprefix("-"), tuple(SORTS))
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise InputError(
                f"offset {offset}, limit {limit}", hint=f"offset 0 or more, limit 1 to {MAX_LIMIT}"
            )
        where, params = ["1"], []
        for column, value in (("r.kind", kind), ("r.status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if flag is not None:
            where.append("r.file_id IN (SELECT file_id FROM record_flags WHERE flag = ?)")
            params.append(flag)
        if ids is not None:
            where.append("r.rid IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(ids)))
        if search:
            needle = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("r.search LIKE ? ESCAPE '\\'")
            params.append(f"%{needle}%")
        order = f"{SORTS[sort.removeprefix('-')]} {'DESC' if sort.startswith('-') else 'ASC'}, r.rid"
        sql = " AND ".join(where)
        return self._guarded(self._page, sql, params, order, offset, limit)

    def _page(self, where: str, params: list, order: str, offset: int, limit: int) -> QueryPage:
        conn = self._conn()
        # `where` and `order` are built from constant fragments and whitelisted columns only;
        # every value is a bound parameter.
        total = conn.execute(f"SELECT count(*) FROM records r WHERE {where}", params).fetchone()[0]  # noqa: S608
        rows = conn.execute(
            f"{_ROW_SQL} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return QueryPage([self._row(x) for x in rows], total)

    def get(self, record_id: str) -> RecordRow | None:
        """The record with this id, among the indexed ones only; None for anything else."""
        if not isinstance(record_id, str) or not 1 <= len(record_id) <= 400:
            return None
        row = self._guarded(
            lambda: (
                self._conn()
                .execute(
                    f"{_ROW_SQL} WHERE r.rid = ?",
                    (record_id,),
                )
                .fetchone()
            )
        )
        return self._row(row) if row else None

    def _row(self, x: tuple) -> RecordRow:
        rel = x[1]
        if rel.startswith("/") or ".." in rel.split("/"):  # only ever written by _walk; belt and braces
            raise IndexUnavailable(f"{self.db_path}: unexpected path {rel!r}")
        return RecordRow(
            id=x[0],
            path=self.root / rel,
            kind=x[2],
            title=x[3],
            tools=tuple(json.loads(x[4])),
            status=x[5],
            revision=x[6],
            updated_at=x[7],
            last_change_by=x[8],
            last_change_at=x[9],
            last_change_action=x[10],
            flags=tuple(f for f in x[11].split(",") if f),
            counts=json.loads(x[12]),
        )

    # -- panel stats -------------------------------------------------------------------------

    def stats(self) -> StatsReader:
        """The queries `panel stats` makes (panel/index/aggregates.py), on this index's connection."""
        return StatsReader(self._conn())


_ROW_COLUMNS = (
    "r.rid, f.rel, r.kind, r.title, r.tools, r.status, r.revision, r.updated_at, r.last_by, r.last_at, "
    "r.last_action, r.flags, r.counts"
)
_ROW_SQL = f"SELECT {_ROW_COLUMNS} FROM records r JOIN files f ON f.id = r.file_id"  # noqa: S608 - constants


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InputError(f"{name}: unknown value {value!r}", hint=f"use one of {', '.join(allowed)}")


def is_outputs_root(folder: Path) -> bool:
    """An outputs folder keeps its index; any other folder of records gets a temporary one."""
    return (folder / DB_NAME).exists() or any((folder / d).is_dir() for d in RECORD_FOLDERS)


@contextlib.contextmanager
def for_stats(
    root: Path, personas: Sequence[Persona] | None = None, *, private: bool = False
) -> Iterator[RecordIndex]:
    """A synced index of the records under root: the folder's own when it is an outputs root
    and usable, otherwise (or when `private`) one in a temporary folder, built by streaming the
    files, and deleted after."""
    if not private and is_outputs_root(root):
        index = RecordIndex(root, personas=personas)
        try:
            index.sync()
        except (IndexUnavailable, OSError) as exc:
            log.info("record index unavailable (%s); reading the files", exc)
            index.close()
        else:
            try:
                yield index
            finally:
                index.close()
            return
    with tempfile.TemporaryDirectory(prefix="panel-index-") as tmp:
        index = RecordIndex(root, db_path=Path(tmp) / DB_NAME, personas=personas, timeout=60)
        try:
            index.sync()
            yield index
        finally:
            index.close()


def record_written(path: Path) -> None:
    """A write listener (panel.core.files): re-index the file if its outputs folder has an
    index. Never raises; a missed update is caught by the next sync (mtime and size)."""
    for root in path.parents[1:3]:
        if (root / DB_NAME).exists():
            if relative(Path(os.path.abspath(root)), path) is None:  # noqa: PTH100 - as RecordIndex
                return  # not a file the index covers (a run's manifest, say): no connection
            try:
                with RecordIndex(root, timeout=1.0) as index:
                    index.update(path)
            except Exception as exc:  # noqa: BLE001 - the write itself has succeeded
                log.info("record index not updated for %s: %s", path, exc)
            return
