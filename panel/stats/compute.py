"""`panel stats`: figures across every panel record in a folder.

They answer an editor's questions: does a persona still tell good tools from weak ones, do two
personas say the same thing (in their verdicts and in their words), are the specifics they state
grounded, do readers agree with the panel, and how much do people change what the model drafted.
`collect` returns plain data; panel/stats/report.py and panel/stats/html.py only render it.
docs/stats.md explains each figure.

The figures are sums and counts the record index computes (panel/index/database.py, index_stats.py), so
neither the time nor the memory of a run depends on the texts, and memory does not grow with the
folder.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

from panel.errors import InputError
from panel.index import database as index
from panel.index.aggregates import PersonaSums, StatsReader
from panel.records import Persona
from panel.stats.figures import (
    BUCKETS,
    Agreement,
    Alert,
    Changes,
    Community,
    Grounding,
    PersonaStats,
    Similarity,
    Skipped,
    Stats,
    alike,
    average,
    redundant,
    rubber_stamp,
    share,
)
from panel.stats.judges import judge_figures
from panel.stats.reviewers import reviewer_agreement

__all__ = ["Stats", "collect", "fleiss_kappa"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Streaming tallies: one pass over the panels, memory independent of their number


class _Kappa:
    """Fleiss' kappa, summed one tool at a time."""

    def __init__(self) -> None:
        self.rows = 0
        self.p_sum = 0.0
        self.ship = 0
        self.ratings = 0

    def add(self, ship: int, skip: int, times: int = 1) -> None:
        """`times` tools with this many ship and skip verdicts."""
        n = ship + skip
        if n < 2:  # one rater agrees with nobody
            return
        self.rows += times
        self.p_sum += times * (ship * (ship - 1) + skip * (skip - 1)) / (n * (n - 1))
        self.ship += times * ship
        self.ratings += times * n

    def value(self) -> float | None:
        if not self.rows:
            return None
        p_bar = self.p_sum / self.rows
        p_ship = self.ship / self.ratings
        p_chance = p_ship**2 + (1 - p_ship) ** 2
        if p_chance >= 1.0:
            return None
        return (p_bar - p_chance) / (1 - p_chance)


def fleiss_kappa(counts: Iterable[tuple[int, int]]) -> float | None:
    """Chance-corrected agreement of ship/skip verdicts; one (ship, skip) count pair per tool.

    Raw agreement is high whenever everyone ships most tools; kappa discounts that. Tools may
    have different numbers of reviewers (failures, extra personas); those with fewer than two
    are left out. None when undefined (no tools, or every verdict the same).
    """
    kappa = _Kappa()
    for ship, skip in counts:
        kappa.add(ship, skip)
    return kappa.value()


def _nth(histogram: list[int], k: int) -> int:
    """The k-th smallest score (0-based) of a score histogram."""
    seen = 0
    for score, count in enumerate(histogram):
        seen += count
        if seen > k:
            return score
    raise IndexError(k)


def _persona_stats(persona: str, sums: PersonaSums, histogram: list[int]) -> PersonaStats:
    n = sums.reviews
    median = (
        float(_nth(histogram, n // 2))
        if n % 2
        else (_nth(histogram, n // 2 - 1) + _nth(histogram, n // 2)) / 2
    )
    return PersonaStats(
        persona=persona,
        reviews=n,
        ship=sums.ship,
        ship_rate=share(sums.ship, n),
        mean_score=average(sum(score * count for score, count in enumerate(histogram)), n),
        min_score=_nth(histogram, 0),
        median_score=median,
        max_score=_nth(histogram, n - 1),
        buckets=[sum(histogram[lo : hi + 1]) for lo, hi in BUCKETS],
        grounding=Grounding(n, sums.claims, sums.unsupported, sums.contradicted, sums.checked),
    )


def _changes(persona: str | None, s: PersonaSums) -> Changes:
    n = s.reviews
    return Changes(
        persona=persona,
        reviews=n,
        edited=s.edited,
        score_changed=s.moved,
        score_changed_share=share(s.moved, n),
        mean_abs_change=average(s.delta_sum, n),
        mean_abs_change_when_changed=average(s.delta_sum, s.moved),
        max_abs_change=s.max_delta if n else None,
        ship_to_skip=s.ship_to_skip,
        ship_to_skip_share=share(s.ship_to_skip, n),
        skip_to_ship=s.skip_to_ship,
        skip_to_ship_share=share(s.skip_to_ship, n),
    )


def _pair(a: str, b: str) -> tuple[str, str]:
    """One key for two personas, in either order."""
    return (a, b) if a <= b else (b, a)


def _figures(reader: StatsReader, stats: Stats) -> None:
    files = reader.file_counts()
    stats.tools = files.tools
    stats.from_published = files.from_published
    stats.superseded = files.panels - files.tools
    stats.ignored = files.ignored
    stats.skipped = [Skipped(rel, problem) for rel, problem in files.skipped]

    panels = reader.panel_sums()
    stats.panels_with_verdict, stats.ship_panels = panels.with_verdict, panels.ship
    stats.ship_panel_share = share(panels.ship, panels.with_verdict)
    stats.failed_reviews = panels.failures
    kappa = _Kappa()
    for ship, skip, times in reader.ship_skip():
        kappa.add(ship, skip, times)
    stats.fleiss_kappa = kappa.value()

    order = reader.personas()
    sums = reader.personas_and_scores()
    stats.personas = [_persona_stats(p, *sums[p]) for p in order]
    stats.changes = [_changes(p, sums[p][0]) for p in order]
    everyone = PersonaSums.total([s for s, _ in sums.values()])
    stats.overall_changes = _changes(None, everyone)
    stats.grounding = Grounding(
        everyone.reviews, everyone.claims, everyone.unsupported, everyone.contradicted, everyone.checked
    )

    pairs = {_pair(a, b): (tools, same, similar) for a, b, tools, same, similar in reader.pairs()}
    for a, b in combinations(order, 2):
        tools, same, similar = pairs.get(_pair(a, b), (0, 0, 0.0))
        stats.agreement.append(Agreement(a=a, b=b, tools=tools, agree=same, rate=share(same, tools)))
        stats.similarity.append(Similarity(a=a, b=b, tools=tools, mean=average(similar, tools)))
    rates = [x.rate for x in stats.agreement if x.rate is not None]
    stats.mean_agreement = sum(rates) / len(rates) if rates else None
    for p in stats.personas:
        mine = [v for k, v in pairs.items() if p.persona in k]
        p.similarity_pairs = sum(tools for tools, _, _ in mine)
        p.similarity = average(sum(similar for _, _, similar in mine), p.similarity_pairs)
    stats.mean_similarity = average(panels.similarity_sum, panels.similarity_tools)
    stats.similarity_tools = panels.similarity_tools

    c = reader.community()
    stats.community = Community(c.comparisons, c.tools, c.compared, c.disagree)
    judge_figures(reader.judges(), stats)
    rank = {p: i for i, p in enumerate(order)}
    stats.persona_judges.sort(key=lambda j: rank.get(j.key, len(rank)))
    stats.warnings = _warnings(stats)
    stats.text_warnings = _text_warnings(stats)


def _warnings(stats: Stats) -> list[Alert]:
    alerts = [
        Alert("rubber-stamp", (p.persona,), p.ship, p.reviews)
        for p in stats.personas
        if rubber_stamp(p.ship, p.reviews)
    ]
    n = stats.panels_with_verdict
    if rubber_stamp(stats.ship_panels, n):
        alerts.append(Alert("panel-rubber-stamp", (), stats.ship_panels, n))
    alerts += [
        Alert("redundant", (x.a, x.b), x.agree, x.tools)
        for x in stats.agreement
        if redundant(x.agree, x.tools)
    ]
    return alerts


def _text_warnings(stats: Stats) -> list[Alert]:
    m, n = stats.mean_similarity, stats.similarity_tools
    if alike(m, n):
        return [Alert("alike", (), n, n, value=m)]
    return []


def collect(root: Path, personas: Sequence[Persona] | None = None) -> Stats:
    """Every figure for the panel records under root (an outputs/ folder or any folder).

    `personas` are those in effect (default: load_personas()); the index grounds records that
    changed since it last saw them with them.
    """
    if not root.is_dir():
        raise InputError("not a folder", where=root, hint="give an outputs/ folder or a folder of panels")
    stats = Stats(root=str(root))
    try:
        with index.for_stats(root, personas) as idx:
            _figures(idx.stats(), stats)
    except sqlite3.DatabaseError as exc:  # the folder's index failed while being read
        log.info("record index of %s failed (%s); reading the files", root, exc)
        stats = Stats(root=str(root))
        with index.for_stats(root, personas, private=True) as idx:
            _figures(idx.stats(), stats)
    stats.reviewers = reviewer_agreement(root)
    return stats
