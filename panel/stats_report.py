"""What `panel stats` shows: table rows shared by the terminal and the HTML report, and the
rich tables. Figures come from panel/stats.py; this module only lays them out."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from panel.stats import BUCKET_LABELS, MIN_TOOLS, REDUNDANT, Stats, display_name, pct

PERSONA_HEADERS = ("Persona", "Reviews", "Ship rate", "Mean", "Min", "Median", "Max", *BUCKET_LABELS)
CHANGES_HEADERS = ("Persona", "Reviews", "Edited", "Score changed", "Mean |Δ|", "|Δ| when changed", "Max |Δ|")
CHANGES_HEADERS += ("ship→skip", "skip→ship")


def num(value: float | None, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def overview_rows(stats: Stats) -> list[tuple[str, str]]:
    """The headline figures as (label, value) text, shared by the terminal and HTML views."""
    files = f"{len(stats.skipped)} unreadable · {stats.ignored} not panels · {stats.superseded} other copies"
    verdicts = f"{stats.ship_panels} of {stats.panels_with_verdict} ({pct(stats.ship_panel_share)})"
    return [
        ("Tools", f"{stats.tools} ({stats.from_published} from a published copy)"),
        ("Panel verdict ship", verdicts),
        ("Failed reviews", str(stats.failed_reviews)),
        ("Mean pairwise agreement", pct(stats.mean_agreement)),
        ("Fleiss' kappa", num(stats.fleiss_kappa, ".2f")),
        ("Files", files),
    ]


def persona_rows(stats: Stats, names: dict[str, str] | None) -> list[list[str]]:
    return [
        [
            display_name(p.persona, names),
            str(p.reviews),
            pct(p.ship_rate),
            num(p.mean_score),
            num(p.min_score, "d"),
            num(p.median_score, "g"),
            num(p.max_score, "d"),
            *(str(c) for c in p.buckets),
        ]
        for p in stats.personas
    ]


def changes_rows(stats: Stats, names: dict[str, str] | None) -> list[list[str]]:
    """One row per persona, then "All"."""
    rows = [*stats.changes, *([stats.overall_changes] if stats.overall_changes else [])]
    return [
        [
            display_name(c.persona, names) if c.persona else "All",
            str(c.reviews),
            str(c.edited),
            f"{c.score_changed} ({pct(c.score_changed_share)})",
            num(c.mean_abs_change),
            num(c.mean_abs_change_when_changed),
            num(c.max_abs_change, "d"),
            f"{c.ship_to_skip} ({pct(c.ship_to_skip_share)})",
            f"{c.skip_to_ship} ({pct(c.skip_to_ship_share)})",
        ]
        for c in rows
    ]


def _table(title: str, headers: tuple[str, ...], rows: list[list[str]]) -> Table:
    """Cells go in as Text: persona names come from files and must never be read as markup."""
    table = Table(title=Text(title, style="bold"), title_justify="left")
    for header in headers:
        table.add_column(header, justify="left" if header == "Persona" else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _agreement_table(stats: Stats, names: dict[str, str] | None) -> Table:
    table = Table(
        title=Text("Verdict agreement: share (tools both reviewed)", style="bold"),
        title_justify="left",
    )
    ids = [p.persona for p in stats.personas]
    table.add_column("")
    for pid in ids:
        table.add_column(Text(display_name(pid, names)), justify="right", no_wrap=True)
    for a in ids:
        cells: list[RenderableType] = []
        for b in ids:
            x = stats.pair(a, b) if a != b else None
            if x is None or x.rate is None:
                cells.append(Text("—", style="dim"))
            else:
                loud = x.tools >= MIN_TOOLS and x.agree > REDUNDANT * x.tools
                cells.append(Text(f"{pct(x.rate)} ({x.tools})", style="bold yellow" if loud else ""))
        table.add_row(Text(display_name(a, names), style="bold"), *cells)
    return table


def stats_table(stats: Stats, names: dict[str, str] | None = None) -> RenderableType:
    """What the terminal shows: the figures, the tables, then warnings and skipped files."""
    overview = Table(title=Text(f"Panel stats · {stats.root}", style="bold"), title_justify="left")
    overview.show_header = False
    overview.add_column("figure", style="bold")
    overview.add_column("value")
    for label, value in overview_rows(stats):
        overview.add_row(label, Text(value))
    parts: list[RenderableType] = [overview]
    if stats.personas:
        parts += [
            _table("Personas", PERSONA_HEADERS, persona_rows(stats, names)),
            _agreement_table(stats, names),
            _table("Changes to the model's drafts", CHANGES_HEADERS, changes_rows(stats, names)),
        ]
    else:
        parts.append(Text("No panel records found.", style="yellow"))
    parts += [Text(f"⚠ {w.sentence(names)}", style="yellow") for w in stats.warnings]
    parts += [Text(f"skipped {s.path}: {s.reason}", style="red") for s in stats.skipped]
    return Group(*parts)


def stats_html(stats: Stats, names: dict[str, str] | None = None) -> str:
    """A one-file HTML report: inline CSS and SVG charts, no scripts, nothing fetched."""
    from panel.stats_html import render  # imported here: stats_html builds on this module

    return render(stats, names)
