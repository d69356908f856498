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

    def judges(self) -> JudgeReader:
        """The judge figures' queries, on the same connection."""
        return JudgeReader(self.conn)

    def community(self) -> CommunitySums:
        """The community majority (more ship than skip votes: ship; fewer: skip; a tie: none)
        against the panel's verdict (ship or skip: a split panel has none to disagree with), per
        tool of the chosen comparisons with votes."""
        row = self.conn.execute(
            """SELECT count(DISTINCT file_id), count(*),
                      coalesce(sum(majority IS NOT NULL AND panel_verdict IN ('ship', 'skip')), 0),
                      coalesce(sum(panel_verdict IN ('ship', 'skip') AND majority != panel_verdict), 0)
               FROM (SELECT c.file_id, v.panel_verdict,
                            CASE WHEN v.ship > v.skip THEN 'ship' WHEN v.skip > v.ship THEN 'skip' END
                            AS majority
                     FROM comparisons c JOIN votes v ON v.file_id = c.file_id WHERE c.chosen = 1)"""
        ).fetchone()
        return CommunitySums(*row)


@dataclass(frozen=True)
class JudgeSums:
    """One judge's (or one persona's) rows, over published records: the sums its figures need."""

    key: str
    reviews: int
    abs_error: int  # |original score - published score|, summed
    signed_error: int  # original score - published score, summed: above 0 lenient, below harsh
    majority_votes: int  # member votes on reviews whose jury had a majority
    with_majority: int  # of those, the member voted with it


@dataclass(frozen=True)
class ErrorPair:
    """Two members of one jury, over the reviews both voted on: sums of their errors (original
    score minus published score), for the correlation of their errors."""

    jury: str
    a: str
    b: str
    n: int
    sx: int
    sy: int
    sxx: int
    syy: int
    sxy: int


# Which rows are a judge's own verdict. By judge: every row (a profile alone, a jury as a whole,
# a jury's member). By persona: the review's own judge (what the draft said); its members' votes
# count only for how often they went with the majority.
_OWN = {"judge": "1", "persona": "member < 0"}
# A judge of Krippendorff's alpha: a single profile or a jury member, not a jury's combined row.
_RATER = "(member >= 0 OR jury IS NULL)"
_HAS_MAJORITY = "(member >= 0 AND majority IN ('ship', 'skip'))"


class JudgeReader:
    """The judge figures' sums, from the `judgements` rows of published records (`counted`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def sums(self, by: str) -> list[JudgeSums]:
        """Per judge (by="judge") or persona (by="persona")."""
        own = _OWN[by]
        rows = self.conn.execute(
            f"""SELECT {by}, sum({own}), sum(CASE WHEN {own} THEN abs(orig_score - score) ELSE 0 END),
                       sum(CASE WHEN {own} THEN orig_score - score ELSE 0 END),
                       coalesce(sum({_HAS_MAJORITY}), 0),
                       coalesce(sum({_HAS_MAJORITY} AND orig_verdict = majority), 0)
                FROM judgements WHERE counted = 1 GROUP BY {by} ORDER BY {by}"""  # noqa: S608 - constants
        )
        return [JudgeSums(*row) for row in rows]

    def confusion(self, by: str) -> dict[str, dict[tuple[str, str], int]]:
        """Per judge (or persona): how many reviews had each (original, published) verdict pair."""
        out: dict[str, dict[tuple[str, str], int]] = {}
        for k, orig, now, n in self.conn.execute(
            f"""SELECT {by}, orig_verdict, verdict, count(*) FROM judgements
                WHERE counted = 1 AND {_OWN[by]} GROUP BY {by}, orig_verdict, verdict"""  # noqa: S608 - constants
        ):
            out.setdefault(k, {})[(orig, now)] = n
        return out

    def alpha_units(self) -> list[tuple[str, int, int, int]]:
        """(persona, ship, skip, reviews): per published review, how many of its judges (single
        profiles and jury members) and its editor said ship and skip, counted by pattern."""
        return self.conn.execute(
            f"""SELECT persona, ships, skips, count(*) FROM (
                  SELECT persona,
                         sum(orig_verdict = 'ship' AND {_RATER}) + max(verdict = 'ship') AS ships,
                         sum(orig_verdict = 'skip' AND {_RATER}) + max(verdict = 'skip') AS skips
                  FROM judgements WHERE counted = 1 GROUP BY file_id, pos)
                GROUP BY persona, ships, skips"""  # noqa: S608 - constants
        ).fetchall()

    def members(self) -> dict[str, list[str]]:
        """Each jury's members that voted on published records, by name."""
        out: dict[str, list[str]] = {}
        for jury, judge in self.conn.execute(
            """SELECT DISTINCT jury, judge FROM judgements WHERE counted = 1 AND member >= 0
               ORDER BY jury, judge"""
        ):
            out.setdefault(jury, []).append(judge)
        return out

    def error_pairs(self) -> list[ErrorPair]:
        rows = self.conn.execute(
            """SELECT a.jury, a.judge, b.judge, count(*),
                      sum(a.orig_score - a.score), sum(b.orig_score - b.score),
                      sum((a.orig_score - a.score) * (a.orig_score - a.score)),
                      sum((b.orig_score - b.score) * (b.orig_score - b.score)),
                      sum((a.orig_score - a.score) * (b.orig_score - b.score))
               FROM judgements a JOIN judgements b
                 ON b.file_id = a.file_id AND b.pos = a.pos AND b.member >= 0 AND a.judge < b.judge
               WHERE a.counted = 1 AND a.member >= 0
               GROUP BY a.jury, a.judge, b.judge ORDER BY a.jury, a.judge, b.judge"""
        )
        return [ErrorPair(*row) for row in rows]
