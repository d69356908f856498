"""The text of `panel stats`' tables, shared by the terminal (panel/stats/report.py) and the HTML
report (panel/stats/html.py): both lay out the same cells, neither builds its own.

Per-persona figures come as columns, one per persona, each a list of values in the order of
the figure labels: the terminal shows them so (figures down, personas across, which reads at 80
columns), the HTML report turns them back into one row per persona.
"""

from __future__ import annotations

from panel.stats.figures import (
    ALIKE,
    BUCKET_LABELS,
    Changes,
    Grounding,
    Stats,
    display_name,
    pct,
)

PERSONA_FIGURES = ("Reviews", "Ship rate", "Mean score", "Min", "Median", "Max")
BUCKET_FIGURES = tuple(f"Scores {label}" for label in BUCKET_LABELS)
GROUNDING_FIGURES = ("Claims per review", "Unsupported", "Contradicted", "Checked by people")
SIMILARITY_FIGURE = "Similarity to others"
CHANGES_FIGURES = (
    *("Reviews", "Edited", "Score changed", "Mean |Δ|", "|Δ| when changed", "Max |Δ|"),
    *("ship→skip", "skip→ship"),
)

Column = tuple[str, list[str]]  # (heading, one value per figure label)


def num(value: float | None, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def overview_rows(stats: Stats) -> list[tuple[str, str]]:
    """The headline figures as (label, value) text."""
    files = f"{len(stats.skipped)} unreadable · {stats.ignored} not panels · {stats.superseded} other copies"
    verdicts = f"{stats.ship_panels} of {stats.panels_with_verdict} ({pct(stats.ship_panel_share)})"
    similarity = (
        "—"
        if stats.mean_similarity is None
        else f"{stats.mean_similarity:.2f} over {stats.similarity_tools} tools (one voice above {ALIKE:.2f})"
    )
    return [
        ("Tools", f"{stats.tools} ({stats.from_published} from a published copy)"),
        ("Panel verdict ship", verdicts),
        ("Failed reviews", str(stats.failed_reviews)),
        ("Mean pairwise agreement", pct(stats.mean_agreement)),
        ("Fleiss' kappa", num(stats.fleiss_kappa, ".2f")),
        ("Paragraph similarity", similarity),
        ("Claims", grounding_line(stats.grounding)),
        ("Community vs panel", community_line(stats)),
        ("Files", files),
    ]


def grounding_line(g: Grounding | None) -> str:
    if g is None or not g.reviews:
        return "—"
    if not g.claims:
        return "none found in the reviews"
    return (
        f"{g.per_review:.1f} per review · {pct(g.unsupported_share)} unsupported · "
        f"{pct(g.contradicted_share)} contradicted · {pct(g.checked_share)} checked by people"
    )


def community_line(stats: Stats) -> str:
    c = stats.community
    if not c.tools:
        return "no community votes yet"
    return (
        f"disagree on {c.disagree} of {c.compared} tools ({pct(c.disagree_share)}), "
        f"in {c.comparisons} comparison{'s' if c.comparisons != 1 else ''} with votes"
    )


def _grounding_values(g: Grounding | None) -> list[str]:
    if g is None or not g.claims:
        return [num(g.per_review if g else None), "—", "—", "—"]
    return [num(g.per_review), pct(g.unsupported_share), pct(g.contradicted_share), pct(g.checked_share)]


def persona_columns(stats: Stats, names: dict[str, str] | None) -> list[Column]:
    """PERSONA_FIGURES, BUCKET_FIGURES, GROUNDING_FIGURES, then SIMILARITY_FIGURE, per persona."""
    return [
        (
            display_name(p.persona, names),
            [
                str(p.reviews),
                pct(p.ship_rate),
                num(p.mean_score),
                num(p.min_score, "d"),
                num(p.median_score, "g"),
                num(p.max_score, "d"),
                *(str(c) for c in p.buckets),
                *_grounding_values(p.grounding),
                num(p.similarity, ".2f"),
            ],
        )
        for p in stats.personas
    ]


def _changes_values(c: Changes) -> list[str]:
    return [
        str(c.reviews),
        str(c.edited),
        f"{c.score_changed} ({pct(c.score_changed_share)})",
        num(c.mean_abs_change),
        num(c.mean_abs_change_when_changed),
        num(c.max_abs_change, "d"),
        f"{c.ship_to_skip} ({pct(c.ship_to_skip_share)})",
        f"{c.skip_to_ship} ({pct(c.skip_to_ship_share)})",
    ]


def changes_columns(stats: Stats, names: dict[str, str] | None) -> list[Column]:
    """CHANGES_FIGURES per persona, then "All"."""
    columns = [(display_name(c.persona or "", names), _changes_values(c)) for c in stats.changes]
    if stats.overall_changes is not None:
        columns.append(("All", _changes_values(stats.overall_changes)))
    return columns


def similarity_rows(stats: Stats, names: dict[str, str] | None) -> list[list[str]]:
    """Persona, persona, tools, mean similarity: one row per pair."""
    return [
        [display_name(x.a, names), display_name(x.b, names), str(x.tools), num(x.mean, ".2f")]
        for x in stats.similarity
    ]


def rows_of(columns: list[Column]) -> list[list[str]]:
    """Columns turned back into one row per heading (the HTML layout)."""
    return [[heading, *values] for heading, values in columns]
