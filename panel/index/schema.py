"""The tables of the record index (panel/index/database.py). Bump SCHEMA_VERSION on any change: an index
of another version is dropped and rebuilt from the files."""

from __future__ import annotations

SCHEMA_VERSION = "5"

TABLES = (
    "votes",
    "comparisons",
    "judgements",
    "pairs",
    "reviews",
    "panels",
    "record_flags",
    "records",
    "files",
    "meta",
)

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Every *.json under the root (outside runs/ and hidden folders), readable or not.
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        rel TEXT NOT NULL UNIQUE,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        digest TEXT,
        kind TEXT NOT NULL,  -- panel | comparison | other | unreadable
        problem TEXT         -- why a record could not be read
    )""",
    "CREATE INDEX files_kind ON files (kind)",
    # The desk's queue: panels/, comparisons/ and published/ (not revisions/).
    """CREATE TABLE records (
        file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
        rid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        title_lc TEXT NOT NULL,
        tools TEXT NOT NULL,      -- JSON list of tool names
        search TEXT NOT NULL,     -- the tool names, case-folded, one per line
        own_status TEXT NOT NULL,
        status TEXT NOT NULL,
        pub_slug TEXT NOT NULL,
        pub_copy INTEGER NOT NULL,  -- this file is published/<pub_slug>.json
        content TEXT NOT NULL,
        revision INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_ts REAL NOT NULL,
        last_by TEXT,
        last_at TEXT,
        last_action TEXT,
        changed_ts REAL NOT NULL,
        flags TEXT NOT NULL,
        counts TEXT NOT NULL
    )""",
    "CREATE INDEX records_changed ON records (changed_ts)",
    "CREATE INDEX records_updated ON records (updated_ts)",
    "CREATE INDEX records_title ON records (title_lc)",
    "CREATE INDEX records_status ON records (status, changed_ts)",
    "CREATE INDEX records_kind ON records (kind, changed_ts)",
    "CREATE INDEX records_pub ON records (pub_slug)",
    """CREATE TABLE record_flags (
        file_id INTEGER NOT NULL REFERENCES records (file_id) ON DELETE CASCADE,
        flag TEXT NOT NULL,
        PRIMARY KEY (file_id, flag)
    ) WITHOUT ROWID""",
    "CREATE INDEX record_flags_flag ON record_flags (flag, file_id)",
    # panel stats: every panel file anywhere under the root, ranked to one per tool.
    """CREATE TABLE panels (
        file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
        slug TEXT NOT NULL,
        published INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        updated_ts REAL NOT NULL,
        rel TEXT NOT NULL,
        failures INTEGER NOT NULL,
        verdict TEXT,
        ship INTEGER NOT NULL,
        skip INTEGER NOT NULL,
        similarity REAL,
        chosen INTEGER NOT NULL DEFAULT 0  -- the copy stats count for its tool: see CHOOSE
    )""",
    "CREATE INDEX panels_rank ON panels (slug, published DESC, revision DESC, updated_ts DESC, rel)",
    "CREATE INDEX panels_chosen ON panels (chosen, slug)",
    """CREATE TABLE reviews (
        file_id INTEGER NOT NULL REFERENCES panels (file_id) ON DELETE CASCADE,
        pos INTEGER NOT NULL,
        persona TEXT NOT NULL,
        score INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        orig_score INTEGER NOT NULL,
        orig_verdict TEXT NOT NULL,
        edited INTEGER NOT NULL,
        claims INTEGER NOT NULL,
        supported INTEGER NOT NULL,
        contradicted INTEGER NOT NULL,
        unsupported INTEGER NOT NULL,
        checked INTEGER NOT NULL,
        chosen INTEGER NOT NULL DEFAULT 0,  -- a copy of its panel's `chosen`
        PRIMARY KEY (file_id, pos)
    ) WITHOUT ROWID""",
    # Covering: stats sum these columns over chosen reviews, grouped by persona and score,
    # straight from the index (no table lookups, no sort).
    "CREATE INDEX reviews_stats ON reviews (chosen, persona, score, verdict, orig_score, orig_verdict, "
    "edited, claims, unsupported, contradicted, checked)",
    """CREATE TABLE pairs (
        file_id INTEGER NOT NULL REFERENCES panels (file_id) ON DELETE CASCADE,
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        similarity REAL NOT NULL,
        agree INTEGER NOT NULL,  -- the two gave the same verdict
        chosen INTEGER NOT NULL DEFAULT 0,  -- a copy of its panel's `chosen`
        PRIMARY KEY (file_id, a, b)
    ) WITHOUT ROWID""",
    "CREATE INDEX pairs_stats ON pairs (chosen, a, b, agree, similarity)",
    # Who judged each review (index/judgements.py): the judge figures of panel stats.
    """CREATE TABLE judgements (
        file_id INTEGER NOT NULL REFERENCES panels (file_id) ON DELETE CASCADE,
        pos INTEGER NOT NULL,
        member INTEGER NOT NULL,  -- -1: the review's own judge; else the jury member's vote
        persona TEXT NOT NULL,
        judge TEXT NOT NULL,
        jury TEXT,
        orig_score INTEGER NOT NULL,
        orig_verdict TEXT NOT NULL,
        score INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        majority TEXT,
        counted INTEGER NOT NULL DEFAULT 0,  -- its panel is chosen and published
        PRIMARY KEY (file_id, pos, member)
    ) WITHOUT ROWID""",
    "CREATE INDEX judgements_counted ON judgements (counted, judge, persona)",
    """CREATE TABLE comparisons (
        file_id INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
        slug TEXT NOT NULL,
        published INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        updated_ts REAL NOT NULL,
        rel TEXT NOT NULL,
        chosen INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX comparisons_chosen ON comparisons (chosen)",
    "CREATE INDEX comparisons_rank ON comparisons "
    "(slug, published DESC, revision DESC, updated_ts DESC, rel)",
    """CREATE TABLE votes (
        file_id INTEGER NOT NULL REFERENCES comparisons (file_id) ON DELETE CASCADE,
        pos INTEGER NOT NULL,
        tool TEXT NOT NULL,
        ship INTEGER NOT NULL,
        skip INTEGER NOT NULL,
        panel_verdict TEXT,
        PRIMARY KEY (file_id, pos)
    ) WITHOUT ROWID""",
)

# One record per tool (docs/stats.md "Which files count"): among the panels with one slug, a
# published copy first, then the higher revision, then the later update, then the first path;
# the panel's reviews and pairs carry the mark too. Comparisons are chosen the same way, one per
# set of tools. Run for each slug a write touches.
_RANK = "ORDER BY o.published DESC, o.revision DESC, o.updated_ts DESC, o.rel LIMIT 1"
CHOOSE = {
    "panels": (
        f"""UPDATE panels SET chosen = (file_id = (SELECT o.file_id FROM panels o WHERE o.slug = panels.slug
              {_RANK})) WHERE slug = ?""",  # noqa: S608 - constants only
        """UPDATE reviews SET chosen = (SELECT p.chosen FROM panels p WHERE p.file_id = reviews.file_id)
           WHERE file_id IN (SELECT file_id FROM panels WHERE slug = ?)""",
        """UPDATE pairs SET chosen = (SELECT p.chosen FROM panels p WHERE p.file_id = pairs.file_id)
           WHERE file_id IN (SELECT file_id FROM panels WHERE slug = ?)""",
        """UPDATE judgements SET counted = (SELECT p.chosen AND p.published FROM panels p
              WHERE p.file_id = judgements.file_id)
           WHERE file_id IN (SELECT file_id FROM panels WHERE slug = ?)""",
    ),
    "comparisons": (
        f"""UPDATE comparisons SET chosen = (file_id = (SELECT o.file_id FROM comparisons o
              WHERE o.slug = comparisons.slug {_RANK})) WHERE slug = ?""",  # noqa: S608 - constants only
    ),
}
