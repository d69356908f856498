"""What `panel stats` shows in the terminal: rich tables of the rows in panel/stats/rows.py.

Tables must read at 80 columns, where a table that does not fit gets its headers cut ("Perso…"),
and rich does that whenever output is not a terminal. So per-persona figures are transposed
(figures down, personas across), and a table with more personas than the width holds is split
into several, each repeating the figure labels.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.table import Table
from rich.text import Text

from panel.stats.figures import EFFECTIVE_JUDGES, Stats, alike, display_name, pct, redundant
from panel.stats.html import render
from panel.stats.rows import (
    BUCKET_FIGURES,
    CHANGES_FIGURES,
    GROUNDING_FIGURES,
    JUDGE_FIGURES,
    JURY_HEADERS,
    PERSONA_FIGURES,
    PERSONA_JUDGE_FIGURES,
    SIMILARITY_FIGURE,
    changes_columns,
    judge_columns,
    jury_rows,
    overview_rows,
    persona_columns,
    persona_judge_columns,
)

Cells = list[Text]


class FittedTable:
    """A table of labelled rows and one column per persona, split by columns to fit the width.

    Cells go in as Text: persona names come from files and must never be read as markup.
    """

    def __init__(
        self,
        title: str,
        labels: list[Text],
        columns: list[tuple[Text, Cells]],
        sections: tuple[int, ...] = (),
    ) -> None:
        self.title = title
        self.labels = labels
        self.columns = columns
        self.sections = sections  # row indexes after which a rule is drawn

    def _table(self, columns: list[tuple[Text, Cells]], first: bool) -> Table:
        title = self.title if first else f"{self.title} (continued)"
        table = Table(title=Text(title, style="bold"), title_justify="left")
        table.add_column("", no_wrap=True)
        for heading, _ in columns:
            table.add_column(heading, justify="right", no_wrap=True)
        for i, label in enumerate(self.labels):
            table.add_row(label, *(cells[i] for _, cells in columns), end_section=i in self.sections)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        """Greedy: as many persona columns per table as the width holds (each column takes its
        widest cell, one space of padding either side and a rule)."""

        def width(cells: list[Text]) -> int:
            return max(c.cell_len for c in cells) + 3

        used = width(self.labels) + 1  # the label column and the left edge
        chunks: list[list[tuple[Text, Cells]]] = [[]]
        for heading, cells in self.columns:
            need = width([heading, *cells])
            if chunks[-1] and used + need > options.max_width:
                chunks.append([])
                used = width(self.labels) + 1
            chunks[-1].append((heading, cells))
            used += need
        for i, chunk in enumerate(chunks):
            yield self._table(chunk, first=i == 0)


def _plain(columns: list[tuple[str, list[str]]]) -> list[tuple[Text, Cells]]:
    return [(Text(heading), [Text(v) for v in values]) for heading, values in columns]


def _personas_table(stats: Stats, names: dict[str, str] | None) -> FittedTable:
    labels = [*PERSONA_FIGURES, *BUCKET_FIGURES, *GROUNDING_FIGURES, SIMILARITY_FIGURE]
    columns = _plain(persona_columns(stats, names))
    for (_, cells), p in zip(columns, stats.personas, strict=True):
        if alike(p.similarity, p.similarity_pairs):
            cells[-1].stylize("bold yellow")
    n, b, g = len(PERSONA_FIGURES), len(BUCKET_FIGURES), len(GROUNDING_FIGURES)
    return FittedTable(
        "Personas", [Text(x) for x in labels], columns, sections=(n - 1, n + b - 1, n + b + g - 1)
    )


def _agreement_table(stats: Stats, names: dict[str, str] | None) -> FittedTable:
    ids = [p.persona for p in stats.personas]
    columns = []
    for b in ids:
        cells = []
        for a in ids:
            x = stats.pair(a, b) if a != b else None
            if x is None or x.rate is None:
                cells.append(Text("—", style="dim"))
            else:
                loud = redundant(x.agree, x.tools)
                cells.append(Text(f"{pct(x.rate)} ({x.tools})", style="bold yellow" if loud else ""))
        columns.append((Text(display_name(b, names)), cells))
    labels = [Text(display_name(a, names), style="bold") for a in ids]
    return FittedTable("Verdict agreement: share (tools both reviewed)", labels, columns)


def _judge_parts(stats: Stats, names: dict[str, str] | None) -> list[RenderableType]:
    """Each judge against the editors (published records only), and each jury's independence."""
    if not stats.judges:
        return [Text("Judges against the editors: no published records yet.", style="dim")]
    parts: list[RenderableType] = [
        FittedTable(
            "Judges against the editors (published records)",
            [Text(x) for x in JUDGE_FIGURES],
            _plain(judge_columns(stats)),
        ),
        FittedTable(
            "Personas' drafts against the editors (published records)",
            [Text(x) for x in PERSONA_JUDGE_FIGURES],
            _plain(persona_judge_columns(stats, names)),
        ),
    ]
    if stats.juries:
        table = Table(
            title=Text("Juries: how independent are the members?", style="bold"), title_justify="left"
        )
        for header in JURY_HEADERS:
            table.add_column(header, overflow="fold")
        for row in jury_rows(stats):
            table.add_row(*(Text(cell) for cell in row))
        parts += [table, Text(EFFECTIVE_JUDGES, style="dim")]
    return parts


def stats_table(stats: Stats, names: dict[str, str] | None = None) -> RenderableType:
    """What the terminal shows: the figures, the tables, then warnings and skipped files."""
    overview = Table(title=Text(f"Panel stats · {stats.root}", style="bold"), title_justify="left")
    overview.show_header = False
    overview.add_column("figure", style="bold", no_wrap=True)
    overview.add_column("value")
    for label, value in overview_rows(stats):
        overview.add_row(label, Text(value))
    parts: list[RenderableType] = [overview]
    if stats.personas:
        parts += [
            _personas_table(stats, names),
            _agreement_table(stats, names),
            FittedTable(
                "Changes to the model's drafts",
                [Text(x) for x in CHANGES_FIGURES],
                _plain(changes_columns(stats, names)),
            ),
            *_judge_parts(stats, names),
        ]
    else:
        parts.append(Text("No panel records found.", style="yellow"))
    parts += [Text(f"⚠ {w.sentence(names)}", style="yellow") for w in stats.all_warnings]
    parts += [Text(f"skipped {s.path}: {s.reason}", style="red") for s in stats.skipped]
    return Group(*parts)


def stats_html(stats: Stats, names: dict[str, str] | None = None) -> str:
    """A one-file HTML report (panel/stats/html.py): inline CSS and SVG, no scripts."""
    return render(stats, names)
