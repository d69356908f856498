"""Keeping the record index (panel/index/database.py) in step with the files: walk, read, write.

A sync walks the folder without holding its listing, compares each file's mtime and size with
the index, reads only the files that differ (then skips those whose content digest is the same),
and writes what it learnt in short transactions of CHUNK files, so the desk and other commands
are never kept waiting. Reading and grounding a file happens outside any transaction.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import re
import sqlite3
import stat
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from panel.core import resources
from panel.core.transactions import tx
from panel.errors import InputError
from panel.grounding import ground
from panel.index import facts as index_facts
from panel.index.facts import FileFacts, ReviewFacts
from panel.index.judgements import JudgementFacts
from panel.index.schema import CHOOSE, SCHEMA_VERSION
from panel.inputs.personas import load_personas
from panel.records import Persona

SKIP_DIRS = frozenset({"runs", "evidence", "intake"})  # run folders, fetched bodies, intake state: no records
CHUNK = 100  # files analysed per write transaction
POOL_AFTER = 300  # files waiting to be read before worker processes pay for their start-up
WORKERS = min(8, len(os.sched_getaffinity(0)))
_ID_PART = re.compile(r"[A-Za-z0-9_-]{1,100}")

# rel, path, mtime_ns, size, and what the index knew of it: (mtime_ns, size, digest) or None.
Seen = tuple[str, str, int, int, tuple | None]
Keys = tuple[str | None, str | None, str | None]  # published slug, panel slug, comparison slug


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


def record_id(rel: str) -> str:
    """'panels/quillstack.json' -> 'panels~quillstack'; a hash where a name is not URL-safe.
    Clean ids always hold a '~' (records live one folder down) and hashed ones never do."""
    parts = rel.removesuffix(".json").split("/")
    if all(_ID_PART.fullmatch(p) for p in parts):
        return "~".join(parts)
    return "h-" + hashlib.sha256(rel.encode("utf-8", "surrogatepass")).hexdigest()[:20]


_persona_cache: dict[tuple, list[Persona]] = {}


def personas_in_effect() -> list[Persona]:
    """load_personas(), read again only when a persona file changes (every write calls this)."""
    key = tuple(
        (str(p), p.stat().st_mtime_ns)
        for d in resources.search_dirs("personas")
        for p in sorted(d.glob("*.y*ml"))
    )
    if key not in _persona_cache:
        _persona_cache.clear()
        _persona_cache[key] = load_personas()
    return _persona_cache[key]


# The code that decides what the index keeps of a record: grounding (the claim rules, however
# they are split into modules, the material, the quality flags), the similarity, the record
# models and this analysis. A change to any of them means every file is read again.
ANALYSIS_CODE = ("grounding/*.py", "records/*.py", "index/facts.py", "index/judgements.py")
"""The code that decides what the index keeps of a record (claims, flags, similarity, the record
types), as globs under the panel package: a change to any of it re-analyses every record."""
PACKAGE = Path(__file__).resolve().parents[1]


def grounding_key(personas: Sequence[Persona]) -> str:
    """Changes when anything that decides the indexed claims, flags or similarity changes: the
    personas in effect (ids and worked examples) and ANALYSIS_CODE."""
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    h.update(json.dumps([[p.id, ground.examples_of([p]).get(p.id)] for p in personas]).encode())
    h.update(code_digest(PACKAGE))
    return h.hexdigest()


def analysis_files(package: Path) -> list[Path]:
    return sorted({f for pattern in ANALYSIS_CODE for f in package.glob(pattern)})


@functools.cache
def code_digest(package: Path) -> bytes:
    """ANALYSIS_CODE as this process loaded it: read once, not on every sync (the desk syncs
    every few seconds while its queue is open)."""
    h = hashlib.sha256()
    for path in analysis_files(package):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.digest()


def walk(root: str) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, path, lstat) of every *.json under root, except SKIP_DIRS and hidden entries.

    Streams (no list of the folder's names is held) and follows no symlinks: the desk opens
    these paths, and a link could lead out of the folder.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for e in entries:
                if e.name.startswith(".") or e.is_symlink():
                    continue
                if e.is_dir(follow_symlinks=False):
                    if e.name not in SKIP_DIRS:
                        stack.append(e.path)
                elif e.name.endswith(".json") and e.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        yield e.path[len(root) + 1 :], e.path, e.stat(follow_symlinks=False)


def relative(root: Path, path: Path) -> str | None:
    """The path relative to root if the index covers it (what `walk` would find); else None."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(root)  # noqa: PTH100 - normalised, links kept
    except ValueError:
        return None
    parts = rel.parts
    if not parts or not parts[-1].endswith(".json"):
        return None
    if any(p.startswith(".") for p in parts) or any(p in SKIP_DIRS for p in parts[:-1]):
        return None
    return rel.as_posix()


def _regular(path: str | Path) -> os.stat_result | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


# (mtime_ns, size, rel) of files touched but unchanged; (rel, mtime_ns, size, facts, known
# before) of files read; relative paths of files gone.
Examined = tuple[list[tuple[int, int, str]], list[tuple[str, int, int, FileFacts, bool]], list[str]]


def examine(batch: list[Seen], personas: Sequence[Persona]) -> Examined:
    """Read and analyse files: the slow part, run outside any transaction (and, when many files
    wait, in worker processes)."""
    touched, fresh, gone = [], [], []
    for rel, path, mtime_ns, size, old in batch:
        try:
            text = index_facts.read(Path(path))
        except InputError as exc:
            if not os.path.lexists(path):
                gone.append(rel)
                continue
            facts = FileFacts("unreadable", "", exc.problem)
        else:
            if old is not None and old[2] == index_facts.digest_text(text):
                touched.append((mtime_ns, size, rel))
                continue
            facts = index_facts.analyse(rel, text, personas)
        fresh.append((rel, mtime_ns, size, facts, old is not None))
    return touched, fresh, gone


class Analysts:
    """Runs `examine` on batches of files: in this process for a few, in a pool of worker
    processes once POOL_AFTER files are waiting (a first build, a persona change). Grounding a
    record takes milliseconds, and a first build of 100,000 records would take the better part
    of an hour on one core. Results come back in the order given, with at most two batches per
    worker in flight, so memory stays flat. A pool that cannot start or breaks falls back to
    this process."""

    def __init__(self, personas: Sequence[Persona]) -> None:
        self.personas = personas
        self.workers = WORKERS
        self.waiting = 0
        self.pool: ProcessPoolExecutor | None = None
        self.pending: deque[tuple[list[Seen], Future[Examined]]] = deque()

    def submit(self, batch: list[Seen]) -> list[Examined]:
        if not batch:
            return []
        self.waiting += len(batch)
        if self.pool is None and self.workers > 1 and self.waiting >= POOL_AFTER:
            try:
                self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            except OSError:
                self.workers = 1
        if self.pool is not None:
            try:
                self.pending.append((batch, self.pool.submit(examine, batch, self.personas)))
            except BrokenProcessPool:
                self.pool, self.workers = None, 1
        if self.pool is None:
            return [*self.drain(), examine(batch, self.personas)]
        return [self._next() for _ in range(len(self.pending) - 2 * self.workers)]

    def _next(self) -> Examined:
        batch, future = self.pending.popleft()
        try:
            return future.result()
        except BrokenProcessPool:  # a worker died (out of memory, killed): do it here
            return examine(batch, self.personas)

    def drain(self) -> list[Examined]:
        return [self._next() for _ in range(len(self.pending))]

    def __enter__(self) -> Analysts:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class Syncer:
    """The write side of one index connection."""

    def __init__(self, conn: sqlite3.Connection, root: Path, personas: Sequence[Persona]) -> None:
        self.conn = conn
        self.root = root
        self.personas = personas

    def sync(self) -> SyncReport:
        """The folder's files go into a temporary table as the walk streams them; SQL then
        finds what is new or changed (mtime or size) and what is gone, with nothing held here."""
        conn = self.conn
        key = grounding_key(self.personas)
        if conn.execute("SELECT value FROM meta WHERE key = 'grounding'").fetchone() != (key,):
            with tx(conn):  # personas or grounding code changed: read every file again
                conn.execute("UPDATE files SET mtime_ns = -1, digest = NULL")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('grounding', ?)", (key,))
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS seen (rel TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER)"
        )
        with tx(conn, immediate=False):
            conn.execute("DELETE FROM temp.seen")
            conn.executemany(
                "INSERT OR IGNORE INTO temp.seen VALUES (?, ?, ?)",
                ((rel, st.st_mtime_ns, st.st_size) for rel, _, st in walk(str(self.root))),
            )
        counts = {"added": 0, "changed": 0}
        unchanged, last = conn.execute("SELECT count(*) FROM temp.seen").fetchone()[0], 0
        with Analysts(self.personas) as analysts:
            while batch := self._differing(last):
                last = batch[-1][0]
                unchanged -= len(batch)
                for done in analysts.submit([item[1:] for item in batch]):
                    unchanged += self.write(done, counts)
            for done in analysts.drain():
                unchanged += self.write(done, counts)
        gone = [
            rel
            for (rel,) in conn.execute("SELECT rel FROM files WHERE rel NOT IN (SELECT rel FROM temp.seen)")
        ]
        if gone:
            with tx(conn):
                self.settle([self.drop(rel) for rel in gone])
        return SyncReport(counts["added"], counts["changed"], len(gone), unchanged)

    def _differing(self, after: int) -> list[tuple]:
        """The next CHUNK walked files that are new to the index or changed (mtime or size)."""
        rows = self.conn.execute(
            """SELECT s.rowid, s.rel, s.mtime_ns, s.size, f.mtime_ns, f.size, f.digest
               FROM temp.seen s LEFT JOIN files f ON f.rel = s.rel
               WHERE s.rowid > ? AND (f.id IS NULL OR f.mtime_ns != s.mtime_ns OR f.size != s.size)
               ORDER BY s.rowid LIMIT ?""",
            (after, CHUNK),
        ).fetchall()
        root = str(self.root)
        return [(x[0], x[1], f"{root}/{x[1]}", x[2], x[3], None if x[4] is None else x[4:]) for x in rows]

    def update(self, path: Path) -> None:
        rel = relative(self.root, path)
        if rel is None:
            return
        st = _regular(path)
        if st is None:
            with tx(self.conn):
                self.settle([self.drop(rel)])
            return
        known = self.conn.execute("SELECT mtime_ns, size, digest FROM files WHERE rel = ?", (rel,)).fetchone()
        batch = [(rel, str(path), st.st_mtime_ns, st.st_size, known)]
        self.write(examine(batch, self.personas), {"added": 0, "changed": 0})

    def write(self, done: Examined, counts: dict[str, int]) -> int:
        """Write what `examine` found in one short transaction; returns how many files turned
        out unchanged (touched, same content)."""
        touched, fresh, gone = done
        for _, _, _, _, known in fresh:
            counts["changed" if known else "added"] += 1
        with tx(self.conn) as conn:
            conn.executemany("UPDATE files SET mtime_ns = ?, size = ? WHERE rel = ?", touched)
            keys = [self.drop(rel) for rel in gone]
            for rel, mtime_ns, size, facts, _ in fresh:
                keys += [self.drop(rel), self.store(rel, mtime_ns, size, facts)]
            self.settle(keys)
        return len(touched)

    def drop(self, rel: str) -> Keys:
        """Forget one file; returns the keys its rows had (see `settle`)."""
        row = self.conn.execute(
            """SELECT r.pub_slug, p.slug, c.slug FROM files f LEFT JOIN records r ON r.file_id = f.id
               LEFT JOIN panels p ON p.file_id = f.id LEFT JOIN comparisons c ON c.file_id = f.id
               WHERE f.rel = ?""",
            (rel,),
        ).fetchone()
        self.conn.execute("DELETE FROM files WHERE rel = ?", (rel,))
        return row or (None, None, None)

    def settle(self, keys: list[Keys]) -> None:
        """What depends on other files: a draft's status against its published copy, and which
        copy of a tool (or of a comparison) stats count."""
        conn = self.conn
        for i, statements in enumerate(((RESTATUS,), CHOOSE["panels"], CHOOSE["comparisons"])):
            slugs = [(slug,) for slug in {k[i] for k in keys} - {None}]
            for statement in statements:
                conn.executemany(statement, slugs)

    def store(self, rel: str, mtime_ns: int, size: int, facts: FileFacts) -> Keys:
        """Write one file's facts; returns its keys (see `settle`)."""
        conn = self.conn
        fid = conn.execute(
            "INSERT INTO files (rel, mtime_ns, size, digest, kind, problem) VALUES (?, ?, ?, ?, ?, ?)",
            (rel, mtime_ns, size, facts.digest, facts.kind, facts.problem),
        ).lastrowid
        p, c, r = facts.panel, facts.comparison, facts.row
        if p is not None:
            ranking = (p.slug, p.published, p.revision, p.updated_ts, rel)
            conn.execute(
                "INSERT INTO panels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (fid, *ranking, p.failures, p.verdict, p.ship, p.skip, p.similarity),
            )
            conn.executemany(
                "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [(fid, *(getattr(x, f) for f in ReviewFacts.__dataclass_fields__)) for x in p.reviews],
            )
            conn.executemany("INSERT INTO pairs VALUES (?, ?, ?, ?, ?, 0)", [(fid, *x) for x in p.pairs])
            conn.executemany(
                "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [(fid, *(getattr(x, f) for f in JudgementFacts.__dataclass_fields__)) for x in p.judgements],
            )
        if c is not None:
            conn.execute(
                "INSERT INTO comparisons VALUES (?, ?, ?, ?, ?, ?, 0)",
                (fid, c.slug, c.published, c.revision, c.updated_ts, rel),
            )
            conn.executemany(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?)",
                [(fid, i, v.tool, v.ship, v.skip, v.panel_verdict) for i, v in enumerate(c.votes)],
            )
        if r is not None:
            conn.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fid,
                    record_id(rel),
                    r.kind,
                    r.title,
                    r.title.casefold(),
                    json.dumps(r.tools, ensure_ascii=False),
                    "\n".join(t.casefold() for t in r.tools),
                    r.own_status,
                    r.own_status,  # status: settled by `settle`
                    r.pub_slug,
                    rel == f"published/{r.pub_slug}.json",
                    r.content,
                    r.revision,
                    r.updated_at,
                    r.updated_ts,
                    r.last_change_by,
                    r.last_change_at,
                    r.last_change_action,
                    r.changed_ts,
                    ",".join(r.flags),
                    json.dumps(r.counts),
                ),
            )
            conn.executemany("INSERT INTO record_flags VALUES (?, ?)", [(fid, f) for f in r.flags])
        return (r.pub_slug if r else None, p.slug if p else None, c.slug if c else None)


# Drafts are "published" or "edited-since-published" against published/<slug>.json.
RESTATUS = """UPDATE records SET status = CASE WHEN own_status = 'published' THEN 'published' ELSE
                coalesce((SELECT CASE WHEN p.content = records.content THEN 'published'
                                      ELSE 'edited-since-published' END
                          FROM records p WHERE p.pub_slug = records.pub_slug AND p.pub_copy
                               AND p.kind = records.kind), 'draft') END
              WHERE pub_slug = ?"""
