"""The build's manifest: one SQLite file per build, beside the site it describes.

It keeps what each published record says that the indexes need (`records`, `record_tools`), and
for every output file the digest of the inputs it was built from and of its bytes (`outputs`).
A build copies the previous manifest, re-reads only the records whose files changed, and
rebuilds only the outputs whose input digest changed; everything is streamed from here, so
memory does not grow with the number of records. The manifest is swapped in with its site, so
the two always agree; deleting it (with the site) costs a full build, nothing else.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from panel.site.collect import FileStat, RecordRow, ToolRow, Votes

SCHEMA_VERSION = "2"
SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE records (
        slug TEXT PRIMARY KEY, kind TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
        ino INTEGER NOT NULL, digest TEXT NOT NULL, title TEXT NOT NULL, revision INTEGER NOT NULL,
        published_at TEXT NOT NULL, first_published TEXT NOT NULL, changed_at TEXT NOT NULL,
        published_by TEXT NOT NULL, outcome TEXT NOT NULL, label TEXT NOT NULL, reason TEXT NOT NULL,
        hand_edited INTEGER NOT NULL
    )""",
    "CREATE INDEX records_latest ON records (kind, published_at)",
    """CREATE TABLE record_tools (
        record_slug TEXT NOT NULL REFERENCES records (slug) ON DELETE CASCADE,
        position INTEGER NOT NULL, tool_slug TEXT NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
        category_slug TEXT NOT NULL, tagline TEXT NOT NULL, ship_pct INTEGER, verdict TEXT,
        mean_score REAL, panel_digest TEXT NOT NULL, votes_ship INTEGER, votes_skip INTEGER,
        votes_at TEXT,
        PRIMARY KEY (record_slug, position)
    ) WITHOUT ROWID""",
    "CREATE INDEX record_tools_tool ON record_tools (tool_slug, record_slug)",
    "CREATE INDEX record_tools_category ON record_tools (category_slug)",
    # Every file of the built site: the digest of what it was built from, and of its bytes.
    # `lastmod` (pages only) is the latest real change of the records it shows.
    """CREATE TABLE outputs (
        path TEXT PRIMARY KEY, inputs TEXT NOT NULL, sha TEXT NOT NULL, lastmod TEXT
    ) WITHOUT ROWID""",
    # Files a command added that no record derives (the weekly digests): carried into every build.
    "CREATE TABLE kept (path TEXT PRIMARY KEY) WITHOUT ROWID",
    # Each tool's current panel: the tool as the record that published it last holds it.
    """CREATE TABLE canon (
        tool_slug TEXT PRIMARY KEY, record_slug TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
        category TEXT NOT NULL, category_slug TEXT NOT NULL, tagline TEXT NOT NULL, ship_pct INTEGER,
        verdict TEXT, mean_score REAL, panel_digest TEXT NOT NULL, votes_ship INTEGER,
        votes_skip INTEGER, votes_at TEXT, record_published TEXT NOT NULL, record_changed TEXT NOT NULL,
        record_digest TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX canon_category ON canon (category_slug)",
)
# The current panel of the tools in `picked` (a condition on t.tool_slug): from the record that
# published it last, the latest slug first on a tie.
CANON = """INSERT INTO canon
    SELECT t.tool_slug, t.record_slug, t.position, t.name, t.category, t.category_slug, t.tagline, t.ship_pct,
           t.verdict, t.mean_score, t.panel_digest, t.votes_ship, t.votes_skip, t.votes_at,
           t.record_published, t.record_changed, t.record_digest
    FROM (SELECT t.*, r.published_at AS record_published, r.changed_at AS record_changed,
                 r.digest AS record_digest, ROW_NUMBER() OVER (
                     PARTITION BY t.tool_slug ORDER BY r.published_at DESC, r.slug DESC) AS rank
          FROM record_tools t JOIN records r ON r.slug = t.record_slug WHERE {picked}) t
    WHERE t.rank = 1"""


_IN_CATEGORY = (
    "r.kind = 'comparison' AND r.slug IN (SELECT record_slug FROM record_tools WHERE category_slug = ?)"
)


def stamp(when: datetime) -> str:
    """A date as the manifest stores it: UTC, to the second, sortable as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)  # "...Z" reads as UTC


@dataclass(frozen=True)
class Canon:
    """A tool's current panel: the record that published it last, and the tool as it holds it."""

    tool: ToolRow
    record_slug: str
    record_digest: str
    record_published: datetime
    record_changed: datetime


@dataclass(frozen=True)
class CategoryRow:
    slug: str
    name: str
    tools: int
    comparisons: int
    changed_at: datetime


class Catalog:
    """One build's manifest. Not shared between processes: a build holds the site's lock."""

    def __init__(self, path: Path):
        self.path = path
        fresh = not path.exists()
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        # The file only counts once its build is swapped in; a crash before that discards it.
        self.conn.execute("PRAGMA journal_mode = MEMORY")
        self.conn.execute("PRAGMA synchronous = OFF")
        if fresh or self.meta("schema") != SCHEMA_VERSION:
            self._create()

    def _create(self) -> None:
        for table in ("canon", "kept", "outputs", "record_tools", "records", "meta"):
            self.conn.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in SCHEMA:
            self.conn.execute(statement)
        self.set_meta("schema", SCHEMA_VERSION)

    @staticmethod
    def version_of(path: Path) -> str | None:
        """The schema version of a manifest file, without changing it (None: unreadable)."""
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # no such table: an empty or foreign file
            return None
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- records ----------------------------------------------------------------------------

    def stats(self) -> dict[str, FileStat]:
        rows = self.conn.execute("SELECT slug, mtime_ns, size, ino FROM records")
        return {slug: FileStat(m, s, i) for slug, m, s, i in rows}

    def digest_of(self, slug: str) -> str | None:
        row = self.conn.execute("SELECT digest FROM records WHERE slug = ?", (slug,)).fetchone()
        return row[0] if row else None

    def restat(self, slug: str, stat: FileStat) -> None:
        """The file was rewritten with the same bytes (a copy, a touch): only its stat moved."""
        self.conn.execute(
            "UPDATE records SET mtime_ns = ?, size = ?, ino = ? WHERE slug = ?",
            (stat.mtime_ns, stat.size, stat.ino, slug),
        )

    def put(self, row: RecordRow, stat: FileStat) -> None:
        self.drop(row.slug)
        self.conn.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.slug, row.kind, stat.mtime_ns, stat.size, stat.ino, row.digest, row.title,
                row.revision, stamp(row.published_at), stamp(row.first_published), stamp(row.changed_at),
                row.published_by, row.outcome, row.label, row.reason, int(row.hand_edited),
            ),
        )  # fmt: skip
        self.conn.executemany(
            "INSERT INTO record_tools VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    row.slug, i, t.slug, t.name, t.category, t.category_slug, t.tagline, t.ship_pct,
                    t.verdict, t.mean_score, t.panel_digest,
                    t.votes.ship if t.votes else None, t.votes.skip if t.votes else None,
                    stamp(t.votes.imported_at) if t.votes and t.votes.imported_at else None,
                )
                for i, t in enumerate(row.tools)
            ],
        )  # fmt: skip

    def drop(self, slug: str) -> None:
        self.conn.execute("DELETE FROM records WHERE slug = ?", (slug,))

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return int(self.conn.execute("SELECT count(*) FROM records").fetchone()[0])
        return int(self.conn.execute("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0])

    def tools_of(self, record_slug: str) -> tuple[str | None, set[str], set[str]]:
        """A record's kind (None: not in the manifest), its tools' slugs and their categories."""
        row = self.conn.execute("SELECT kind FROM records WHERE slug = ?", (record_slug,)).fetchone()
        query = "SELECT tool_slug, category_slug FROM record_tools WHERE record_slug = ?"
        pairs = self.conn.execute(query, (record_slug,)).fetchall()
        return (row[0] if row else None), {t for t, _ in pairs}, {c for _, c in pairs}

    def refresh_canon(self, tools: set[str] | None = None) -> dict[str, tuple[str | None, str | None]]:
        """Work out the current panel of these tools (None: of every tool) after the records
        changed. Returns each tool whose current panel changed, with its category before and after
        (None where it had or has no panel)."""
        where, params = (
            ("1", ()) if tools is None else (f"tool_slug IN ({','.join('?' * len(tools))})", tuple(tools))
        )
        before = {r[0]: r for r in self.conn.execute(f"SELECT * FROM canon WHERE {where}", params)}  # noqa: S608
        self.conn.execute(f"DELETE FROM canon WHERE {where}", params)  # noqa: S608
        self.conn.execute(CANON.format(picked=where.replace("tool_slug", "t.tool_slug")), params)
        after = {r[0]: r for r in self.conn.execute(f"SELECT * FROM canon WHERE {where}", params)}  # noqa: S608
        return {
            slug: (before[slug][5] if slug in before else None, after[slug][5] if slug in after else None)
            for slug in before.keys() | after.keys()
            if before.get(slug) != after.get(slug)
        }

    def comparisons_with(self, tools: set[str]) -> set[str]:
        """The comparisons any of these tools is in."""
        marks = ",".join("?" * len(tools))  # placeholders only; the values go in as parameters
        query = (
            "SELECT DISTINCT t.record_slug FROM record_tools t JOIN records r ON r.slug = t.record_slug "  # noqa: S608
            f"WHERE r.kind = 'comparison' AND t.tool_slug IN ({marks})"
        )
        return {slug for (slug,) in self.conn.execute(query, tuple(tools))}

    # -- reading rows -----------------------------------------------------------------------

    _RECORD_COLUMNS = (
        "r.slug, r.kind, r.digest, r.title, r.revision, r.published_at, r.first_published, "
        "r.changed_at, r.published_by, r.outcome, r.label, r.reason, r.hand_edited"
    )
    _TOOL_COLUMNS = (
        "t.tool_slug, t.name, t.category, t.category_slug, t.tagline, t.ship_pct, t.verdict, "
        "t.mean_score, t.panel_digest, t.votes_ship, t.votes_skip, t.votes_at"
    )

    @staticmethod
    def _tool(row: tuple) -> ToolRow:
        slug, name, category, cslug, tagline, pct, verdict, mean, digest, ship, skip, at = row
        votes = None if ship is None else Votes(ship, skip, unstamp(at) if at else None)
        return ToolRow(slug, name, category, cslug, tagline, pct, verdict, mean, digest, votes)

    def _records(self, where: str, params: tuple = (), tail: str = "") -> Iterator[RecordRow]:
        """Records with their tools, streamed in the order `tail` gives (tools in record order)."""
        order = tail or "ORDER BY r.slug"
        query = (  # `where` and `tail` are this module's own constants; values go in `params`
            f"SELECT {self._RECORD_COLUMNS}, {self._TOOL_COLUMNS} FROM records r "  # noqa: S608
            f"JOIN record_tools t ON t.record_slug = r.slug WHERE {where} {order}, t.position"
        )
        current: list[tuple] = []
        tools: list[ToolRow] = []
        for row in self.conn.execute(query, params):
            if current and row[0] != current[0][0]:
                yield self._record(current[0], tools)
                current, tools = [], []
            current.append(row)
            tools.append(self._tool(row[13:]))
        if current:
            yield self._record(current[0], tools)

    @staticmethod
    def _record(row: tuple, tools: list[ToolRow]) -> RecordRow:
        slug, kind, digest, title, revision, published, first, changed, by, outcome, label, reason, hand = (
            row[:13]
        )
        return RecordRow(
            slug, kind, digest, title, revision, unstamp(published), unstamp(first), unstamp(changed),
            by, outcome, label, reason, bool(hand), tuple(tools),
        )  # fmt: skip

    def comparisons(self) -> Iterator[RecordRow]:
        return self._records("r.kind = 'comparison'")

    def records_of_tool(self, tool_slug: str) -> list[RecordRow]:
        """Every published record the tool is in, newest first."""
        return list(
            self._records(
                "r.slug IN (SELECT record_slug FROM record_tools WHERE tool_slug = ?)",
                (tool_slug,),
                "ORDER BY r.published_at DESC, r.slug",
            )
        )

    def comparisons_in(self, category_slug: str) -> Iterator[RecordRow]:
        return self._records(_IN_CATEGORY, (category_slug,), "ORDER BY r.published_at DESC, r.slug")

    def latest(self, limit: int, category_slug: str | None = None) -> list[RecordRow]:
        """The comparisons published last (newest first), of one category or all."""
        where, params = (
            ("r.kind = 'comparison'", ()) if category_slug is None else (_IN_CATEGORY, (category_slug,))
        )
        query = f"SELECT r.slug FROM records r WHERE {where} ORDER BY r.published_at DESC, r.slug LIMIT ?"  # noqa: S608
        slugs = [s for (s,) in self.conn.execute(query, (*params, limit))]
        if not slugs:
            return []
        marks = ",".join("?" * len(slugs))
        found = {r.slug: r for r in self._records(f"r.slug IN ({marks})", tuple(slugs))}
        return [found[s] for s in slugs]

    def published_between(self, start: datetime, end: datetime) -> list[RecordRow]:
        """Comparisons whose latest publication falls in [start, end), oldest first."""
        return list(
            self._records(
                "r.kind = 'comparison' AND r.published_at >= ? AND r.published_at < ?",
                (stamp(start), stamp(end)),
                "ORDER BY r.published_at, r.slug",
            )
        )

    # -- tools and categories (after index_tools) ---------------------------------------------

    def _canon(self, where: str, params: tuple = (), order: str = "tool_slug") -> Iterator[Canon]:
        query = (  # `where` and `order` are this module's own constants
            f"SELECT {self._TOOL_COLUMNS}, t.record_slug, t.record_digest, t.record_published, "  # noqa: S608
            f"t.record_changed FROM canon t WHERE {where} ORDER BY {order}"
        )
        for row in self.conn.execute(query, params):
            yield Canon(self._tool(row[:12]), row[12], row[13], unstamp(row[14]), unstamp(row[15]))

    def canon(self, tool_slug: str) -> Canon | None:
        return next(self._canon("t.tool_slug = ?", (tool_slug,)), None)

    def tools_in(self, category_slug: str) -> Iterator[Canon]:
        """The tools whose current panel is in this category, newest first."""
        return self._canon("t.category_slug = ?", (category_slug,), "t.record_published DESC, t.tool_slug")

    def tool_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM canon").fetchone()[0])

    def tool_slugs(self) -> Iterator[str]:
        for (slug,) in self.conn.execute("SELECT tool_slug FROM canon ORDER BY tool_slug"):
            yield slug

    def tool_inputs(self, tool_slug: str) -> list[tuple[str, str]]:
        """[(record slug, record digest)...]: what the tool's page is built from."""
        query = (
            "SELECT r.slug, r.digest FROM record_tools t JOIN records r ON r.slug = t.record_slug "
            "WHERE t.tool_slug = ? ORDER BY r.slug"
        )
        return list(self.conn.execute(query, (tool_slug,)))

    def category_inputs(self, category_slug: str) -> list[tuple[str, str]]:
        """[(key, digest)...]: the comparisons on the category's page and its tools' current panels."""
        query = (
            "SELECT key, digest FROM ("
            "  SELECT DISTINCT 'c:' || r.slug AS key, r.digest FROM record_tools t"
            "  JOIN records r ON r.slug = t.record_slug WHERE r.kind = 'comparison' AND t.category_slug = ?"
            "  UNION ALL SELECT 't:' || tool_slug || ':' || record_slug, record_digest FROM canon"
            "  WHERE category_slug = ?"
            ") ORDER BY key"
        )
        return list(self.conn.execute(query, (category_slug, category_slug)))

    def categories(self) -> list[CategoryRow]:
        """Every category with a tool or a comparison, by name; its name as its latest record spells it."""
        query = """
            SELECT c.category_slug,
                   (SELECT t.category FROM record_tools t JOIN records r ON r.slug = t.record_slug
                     WHERE t.category_slug = c.category_slug ORDER BY r.published_at DESC LIMIT 1),
                   (SELECT count(*) FROM canon k WHERE k.category_slug = c.category_slug),
                   (SELECT count(DISTINCT t.record_slug) FROM record_tools t
                     JOIN records r ON r.slug = t.record_slug
                     WHERE t.category_slug = c.category_slug AND r.kind = 'comparison'),
                   (SELECT max(r.changed_at) FROM record_tools t JOIN records r ON r.slug = t.record_slug
                     WHERE t.category_slug = c.category_slug)
            FROM (SELECT DISTINCT category_slug FROM record_tools) c
        """
        rows = [CategoryRow(s, n, t, c, unstamp(at)) for s, n, t, c, at in self.conn.execute(query)]
        return sorted(rows, key=lambda c: (c.name.casefold(), c.slug))

    def comparisons_by_slug(self, slugs: set[str]) -> Iterator[RecordRow]:
        if not slugs:
            return iter(())
        marks = ",".join("?" * len(slugs))
        return self._records(f"r.kind = 'comparison' AND r.slug IN ({marks})", tuple(sorted(slugs)))

    # -- outputs ------------------------------------------------------------------------------

    def output(self, path: str) -> tuple[str, str] | None:
        """(inputs digest, bytes digest) the file was last built with."""
        row = self.conn.execute("SELECT inputs, sha FROM outputs WHERE path = ?", (path,)).fetchone()
        return (row[0], row[1]) if row else None

    def set_output(self, path: str, inputs: str, sha: str, lastmod: datetime | None) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
            (path, inputs, sha, stamp(lastmod) if lastmod else None),
        )

    def output_paths(self, prefix: str) -> list[str]:
        query = "SELECT path FROM outputs WHERE substr(path, 1, ?) = ? ORDER BY path"
        return [p for (p,) in self.conn.execute(query, (len(prefix), prefix))]

    def forget(self, path: str) -> None:
        self.conn.execute("DELETE FROM outputs WHERE path = ?", (path,))

    def clear_outputs(self) -> None:
        """A full build: every output is made again."""
        self.conn.execute("DELETE FROM outputs")

    def has_output(self, path: str) -> bool:
        return self.conn.execute("SELECT 1 FROM outputs WHERE path = ?", (path,)).fetchone() is not None

    def file_count(self) -> int:
        """The files of the site: its outputs (not those kept beside it) and the kept ones."""
        query = (
            "SELECT (SELECT count(*) FROM outputs WHERE path NOT LIKE '../%') + (SELECT count(*) FROM kept)"
        )
        return int(self.conn.execute(query).fetchone()[0])

    def page_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM outputs WHERE lastmod IS NOT NULL").fetchone()[0])

    def pages(self, offset: int = 0, limit: int = -1) -> Iterator[tuple[str, datetime]]:
        """Every page with the last real change it shows: the sitemap's rows, streamed."""
        query = "SELECT path, lastmod FROM outputs WHERE lastmod IS NOT NULL ORDER BY path LIMIT ? OFFSET ?"
        for path, lastmod in self.conn.execute(query, (limit, offset)):
            yield path, unstamp(lastmod)

    def differences(self, other: Path) -> tuple[list[str], list[str]]:
        """Against another build's manifest: the files (outputs and kept ones) it has with other
        bytes or that this one lacks, and the files this one has that it does not."""
        self.conn.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            theirs = (
                "SELECT o.path FROM other.outputs o LEFT JOIN main.outputs m ON m.path = o.path "
                "WHERE m.sha IS NOT o.sha UNION SELECT k.path FROM other.kept k "
                "WHERE k.path NOT IN (SELECT path FROM main.kept)"
            )
            ours = (
                "SELECT m.path FROM main.outputs m WHERE m.path NOT IN (SELECT path FROM other.outputs) "
                "UNION SELECT k.path FROM main.kept k WHERE k.path NOT IN (SELECT path FROM other.kept)"
            )
            return [p for (p,) in self.conn.execute(theirs)], [p for (p,) in self.conn.execute(ours)]
        finally:
            self.conn.execute("DETACH DATABASE other")

    def kept(self) -> list[str]:
        return [p for (p,) in self.conn.execute("SELECT path FROM kept ORDER BY path")]

    def keep(self, path: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO kept VALUES (?)", (path,))
