"""Each judge measured against the editors: the figures `panel stats` adds for profiles, personas
and juries, from the index's sums over published records (panel/index/aggregates.py).

The editors' published decisions are the labels. Per judge (a profile, or a jury as a whole) and
per persona: Cohen's kappa of the original verdict against the published one, the mean absolute
and the mean signed difference of the scores, and how often a jury member voted with its jury's
majority. Krippendorff's alpha (the `krippendorff` package) is over every judge and the editor
together. Per jury: the correlation of each pair of members' errors, and the effective number of
independent judges, n / (1 + (n - 1)ρ). docs/stats.md explains how to read them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from panel.index.aggregates import ErrorPair, JudgeReader, JudgeSums
from panel.stats.figures import ErrorCorrelation, JudgeStats, JuryStats, Stats, average, share


def cohen_kappa(pairs: Mapping[tuple[str, str], int]) -> float | None:
    """Cohen's kappa of two raters from their (a, b) label counts; None when chance agreement is
    total (one label throughout) or there is nothing to compare."""
    n = sum(pairs.values())
    if not n:
        return None
    labels = {label for pair in pairs for label in pair}
    observed = sum(count for (a, b), count in pairs.items() if a == b) / n
    chance = sum(
        sum(c for (a, _), c in pairs.items() if a == label)
        * sum(c for (_, b), c in pairs.items() if b == label)
        for label in labels
    ) / (n * n)
    return None if chance >= 1.0 else (observed - chance) / (1 - chance)


def krippendorff_alpha(patterns: Iterable[tuple[int, int, int]]) -> float | None:
    """Nominal Krippendorff's alpha from (ship, skip, how many units) patterns: each unit a
    published review, its values the judges' and the editor's verdicts. None when undefined."""
    import krippendorff
    import numpy as np

    rows = [(ship, skip, n) for ship, skip, n in patterns if ship + skip >= 2]
    if not rows or not (any(s for s, _, _ in rows) and any(k for _, k, _ in rows)):
        return None
    counts = np.repeat(np.array([[s, k] for s, k, _ in rows]), [n for _, _, n in rows], axis=0)
    value = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    return None if math.isnan(value) else value


def pearson(p: ErrorPair) -> float | None:
    """Pearson's r from the sums; None with fewer than two reviews or a constant error."""
    if p.n < 2:
        return None
    vx, vy = p.n * p.sxx - p.sx * p.sx, p.n * p.syy - p.sy * p.sy
    if vx <= 0 or vy <= 0:
        return None
    return (p.n * p.sxy - p.sx * p.sy) / math.sqrt(vx * vy)


def effective_judges(n: int, rho: float) -> float:
    """How many independent judges n members with mean error correlation rho are worth (a
    negative rho counts as 0: n at most)."""
    return n / (1 + (n - 1) * max(rho, 0.0))


def _judge(s: JudgeSums, confusion: Mapping[tuple[str, str], int], alpha: float | None = None) -> JudgeStats:
    return JudgeStats(
        key=s.key,
        reviews=s.reviews,
        kappa=cohen_kappa(confusion),
        alpha=alpha,
        mae=average(s.abs_error, s.reviews),
        bias=average(s.signed_error, s.reviews),
        majority=share(s.with_majority, s.majority_votes),
        majority_votes=s.majority_votes,
    )


def _juries(reader: JudgeReader) -> list[JuryStats]:
    pairs: dict[str, list[ErrorCorrelation]] = {}
    for p in reader.error_pairs():
        pairs.setdefault(p.jury, []).append(ErrorCorrelation(p.a, p.b, p.n, pearson(p)))
    out = []
    for jury, members in reader.members().items():
        mine = pairs.get(jury, [])
        rs = [x.r for x in mine if x.r is not None]
        mean = sum(rs) / len(rs) if rs else None
        effective = effective_judges(len(members), mean) if mean is not None else None
        out.append(JuryStats(jury=jury, members=members, pairs=mine, mean_r=mean, effective=effective))
    return out


def judge_figures(reader: JudgeReader, stats: Stats) -> None:
    """Fill the judge figures of `stats` from the index."""
    units = reader.alpha_units()
    stats.alpha = krippendorff_alpha((ship, skip, n) for _, ship, skip, n in units)
    by_persona: dict[str, list[tuple[int, int, int]]] = {}
    for persona, ship, skip, n in units:
        by_persona.setdefault(persona, []).append((ship, skip, n))
    confusion = reader.confusion("judge")
    stats.judges = [_judge(s, confusion.get(s.key, {})) for s in reader.sums("judge")]
    confusion = reader.confusion("persona")
    stats.persona_judges = [
        _judge(s, confusion.get(s.key, {}), krippendorff_alpha(by_persona.get(s.key, [])))
        for s in reader.sums("persona")
    ]
    stats.juries = _juries(reader)
