"""What `panel stats` asks the record index: sums and counts over one panel per tool.

The aggregation runs in SQLite (GROUP BY over the per-review table), so a run over 100,000
panels holds a few dozen numbers per persona in Python, never the reviews. "One panel per tool"
and "one comparison per set of tools" are the rows marked `chosen` (kept up to date on every
write: index_schema.CHOOSE; the rule is in docs/stats.md, "Which files count").
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class FileCounts:
    """What `panel stats` reports about the files."""

    tools: int
    panels: int
    from_published: int
    ignored: int
    skipped: list[tuple[str, str]]


@dataclass(frozen=True)
class PersonaSums:
    """Totals over one persona's reviews (of the chosen panels)."""

    reviews: int
    ship: int
    edited: int
    delta_sum: int  # |score - draft score|, summed
    moved: int  # reviews whose score differs from the draft
    max_delta: int
    ship_to_skip: int
    skip_to_ship: int
    claims: int
    unsupported: int
    contradicted: int
    checked: int

    @classmethod
    def total(cls, parts: list[PersonaSums]) -> PersonaSums:
        """Several groups of reviews together (scores of one persona, or every persona)."""
        totals = {f: sum(getattr(x, f) for x in parts) for f in cls.__dataclass_fields__}
        totals["max_delta"] = max((x.max_delta for x in parts), default=0)
        return cls(**totals)


@dataclass(frozen=True)
class PanelSums:
    with_verdict: int
    ship: int
    failures: int
    similarity_sum: float
    similarity_tools: int


@dataclass(frozen=True)
class CommunitySums:
    comparisons: int
    tools: int
    compared: int  # a community majority and a panel verdict
    disagree: int


class StatsReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def file_counts(self) -> FileCounts:
        tools, panels, published = self.conn.execute(
            "SELECT coalesce(sum(chosen), 0), count(*), coalesce(sum(published AND chosen), 0) FROM panels"
        ).fetchone()
        ignored = self.conn.execute(
            "SELECT count(*) FROM files WHERE kind IN ('comparison', 'other')"
        ).fetchone()[0]
        skipped = self.conn.execute(
            "SELECT rel, problem FROM files WHERE problem IS NOT NULL AND kind IN ('panel', 'unreadable') "
            "ORDER BY rel"
        ).fetchall()
        return FileCounts(tools, panels, published, ignored, skipped)

    def personas(self) -> list[str]:
        """Personas in the order records list them: by the first tool (in slug order) that has
        them, then by their place in its reviews. (SQLite takes r.pos from the row where
        min(c.slug) is found.)"""
        rows = self.conn.execute(
            """SELECT r.persona, min(c.slug) AS first, r.pos FROM panels c
               JOIN reviews r ON r.file_id = c.file_id WHERE c.chosen = 1
               GROUP BY r.persona ORDER BY first, r.pos"""
        )
        return [persona for persona, _, _ in rows]

    def personas_and_scores(self) -> dict[str, tuple[PersonaSums, list[int]]]:
        """Per persona, its totals and how many of its reviews gave each score from 0 to 100,
        from one pass over the reviews (grouped by persona and score)."""
        rows = self.conn.execute(
            """SELECT r.persona, r.score, count(*), sum(r.verdict = 'ship'), sum(r.edited),
                      sum(abs(r.score - r.orig_score)), sum(r.score != r.orig_score),
                      max(abs(r.score - r.orig_score)),
                      sum(r.orig_verdict = 'ship' AND r.verdict = 'skip'),
                      sum(r.orig_verdict = 'skip' AND r.verdict = 'ship'),
                      sum(r.claims), sum(r.unsupported), sum(r.contradicted), sum(r.checked)
               FROM reviews r WHERE r.chosen = 1 GROUP BY r.persona, r.score"""
        )
        parts: dict[str, list[PersonaSums]] = {}
        histograms: dict[str, list[int]] = {}
        for persona, score, *sums in rows:
            parts.setdefault(persona, []).append(PersonaSums(*sums))
            histograms.setdefault(persona, [0] * 101)[score] = sums[0]
        return {p: (PersonaSums.total(parts[p]), histograms[p]) for p in parts}

    def pairs(self) -> list[tuple[str, str, int, int, float]]:
        """(persona, persona, tools both reviewed, same verdict, summed paragraph similarity)
        for every pair of personas that met on a tool."""
        return self.conn.execute(
            """SELECT a, b, count(*), sum(agree), sum(similarity) FROM pairs WHERE chosen = 1
               GROUP BY a, b"""
        ).fetchall()

    def panel_sums(self) -> PanelSums:
        row = self.conn.execute(
            """SELECT count(verdict), coalesce(sum(verdict = 'ship'), 0), coalesce(sum(failures), 0),
                      coalesce(sum(similarity), 0), count(similarity) FROM panels WHERE chosen = 1"""
        ).fetchone()
        return PanelSums(*row)

    def ship_skip(self) -> list[tuple[int, int, int]]:
        """(ship, skip, how many panels) per distinct verdict split: what Fleiss' kappa needs."""
        return self.conn.execute(
            "SELECT ship, skip, count(*) FROM panels WHERE chosen = 1 GROUP BY ship, skip"
        ).fetchall()

    def community(self) -> CommunitySums:
        """The community majority (more ship than skip votes: ship; fewer: skip; a tie: none)
        against the panel's verdict, per tool of the chosen comparisons with votes."""
        row = self.conn.execute(
            """SELECT count(DISTINCT file_id), count(*),
                      coalesce(sum(majority IS NOT NULL AND panel_verdict IS NOT NULL), 0),
                      coalesce(sum(majority != panel_verdict), 0)
               FROM (SELECT c.file_id, v.panel_verdict,
                            CASE WHEN v.ship > v.skip THEN 'ship' WHEN v.skip > v.ship THEN 'skip' END
                            AS majority
                     FROM comparisons c JOIN votes v ON v.file_id = c.file_id WHERE c.chosen = 1)"""
        ).fetchone()
        return CommunitySums(*row)
