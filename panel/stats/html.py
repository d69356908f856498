"""The one-file HTML report of `panel stats`: inline CSS, hand-made SVG charts, no scripts.

The file must open anywhere (mail attachment, offline, a locked-down CMS), so nothing is
fetched and nothing runs. Persona ids and names come from files: every string is escaped.
"""

from __future__ import annotations

from html import escape

from panel.stats.figures import (
    ALIKE,
    BUCKET_LABELS,
    EFFECTIVE_JUDGES,
    MIN_TOOLS,
    REDUNDANT,
    RUBBER_STAMP,
    Stats,
    alike,
    display_name,
    pct,
)
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
    community_line,
    judge_columns,
    jury_rows,
    overview_rows,
    persona_columns,
    persona_judge_columns,
    rows_of,
    similarity_rows,
)

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1d2330}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #eef;
text-align:right}th:first-child,td:first-child{text-align:left}thead th{background:#f4f6fb}
.warn{background:#fff6d6;border-left:4px solid #e0a800;padding:.5rem .8rem;margin:.4rem 0}
.bad{color:#a11}.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}
.loud{background:#fff6d6;font-weight:600}
figcaption{font-weight:600;font-size:.9rem}svg text{font:12px system-ui,sans-serif;fill:#1d2330}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(
    headers: list[str], rows: list[list[str]], loud: set[tuple[int, int]] | frozenset = frozenset()
) -> str:
    """A table; cells arrive as plain text and are escaped here. `loud`: (row, column) cells to
    mark."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="loud">{_e(c)}</td>' if (r, i) in loud else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for r, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{body}</svg>"
    )


def histogram(name: str, buckets: list[int]) -> str:
    """Score buckets of one persona as columns, each labelled with its count."""
    width, height, top, bottom, left = 250, 150, 18, 22, 6
    slot = (width - 2 * left) / len(buckets)
    tallest = max(buckets, default=0) or 1
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#99a"/>'
    ]
    for i, (label, count) in enumerate(zip(BUCKET_LABELS, buckets, strict=True)):
        h = (height - top - bottom) * count / tallest
        x = left + i * slot
        y = height - bottom - h
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{slot - 8:.1f}" height="{h:.1f}" fill="#4a6fd1">'
            f"<title>{_e(label)}: {count}</title></rect>"
        )
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle">{_e(label)}</text>')
    return _svg(width, height, f"Score distribution of {name}", "".join(parts))


def ship_chart(rows: list[tuple[str, float | None]]) -> str:
    """Ship rates as horizontal bars, with the rubber-stamp line marked."""
    label_w, bar_w, row_h, pad = 150, 320, 24, 20
    width, height = label_w + bar_w + 60, pad * 2 + row_h * len(rows)
    parts = []
    for i, (name, rate) in enumerate(rows):
        y = pad + i * row_h
        w = bar_w * (rate or 0)
        colour = "#c9302c" if rate is not None and rate > RUBBER_STAMP else "#3a9d5d"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{_e(_short(name))}'
            f"<title>{_e(name)}</title></text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{_e(pct(rate))}</text>')
    mark = label_w + bar_w * RUBBER_STAMP
    parts.append(
        f'<line x1="{mark:.1f}" y1="{pad - 8}" x2="{mark:.1f}" y2="{height - pad + 4}" '
        'stroke="#c9302c" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{mark:.1f}" y="{pad - 10}" text-anchor="middle">{pct(RUBBER_STAMP)}</text>')
    return _svg(width, height, "Ship rate per persona and for the panel verdict", "".join(parts))


def _heat(rate: float) -> str:
    """From near-white (never agree) to deep blue (always agree)."""
    lo, hi = (240, 244, 252), (20, 50, 130)
    r, g, b = (round(a + (z - a) * rate) for a, z in zip(lo, hi, strict=True))
    return f"rgb({r},{g},{b})"


def heatmap(stats: Stats, names: dict[str, str] | None) -> str:
    """Pairwise verdict agreement as a grid; each cell gives the share and the tool count."""
    ids = [p.persona for p in stats.personas]
    label_w, cell, top = 150, 64, 110
    width, height = label_w + cell * len(ids) + 10, top + cell * len(ids) + 10
    parts = []
    for i, pid in enumerate(ids):
        name = display_name(pid, names)
        x = label_w + i * cell + cell / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top - 8}" transform="rotate(-40 {x:.1f} {top - 8})">'
            f"{_e(_short(name))}<title>{_e(name)}</title></text>"
        )
        parts.append(
            f'<text x="{label_w - 8}" y="{top + i * cell + cell / 2 + 4:.1f}" text-anchor="end">'
            f"{_e(_short(name))}<title>{_e(name)}</title></text>"
        )
    for r, a in enumerate(ids):
        for c, b in enumerate(ids):
            x, y = label_w + c * cell, top + r * cell
            pair = stats.pair(a, b) if a != b else None
            if pair is None or pair.rate is None:
                fill, text, colour, tip = "#eeeeee", "—", "#777", "no shared tools"
            else:
                fill, text = _heat(pair.rate), pct(pair.rate)
                colour = "#ffffff" if pair.rate > 0.55 else "#1d2330"
                tip = f"{pair.agree} of {pair.tools} tools"
            who = f"{display_name(a, names)} · {display_name(b, names)}: {tip}"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                f"<title>{_e(who)}</title></rect>"
            )
            parts.append(
                f'<text x="{x + cell / 2 - 1:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                f'style="fill:{colour}">{_e(text)}</text>'
            )
    return _svg(width, height, "Verdict agreement between personas", "".join(parts))


def _persona_tables(stats: Stats, names: dict[str, str] | None) -> tuple[str, str]:
    """The per-persona figures as two tables, one row per persona: scores, and grounding with
    similarity."""
    n, b, g = len(PERSONA_FIGURES), len(BUCKET_FIGURES), len(GROUNDING_FIGURES)
    rows = rows_of(persona_columns(stats, names))
    scores = _table(["Persona", *PERSONA_FIGURES, *BUCKET_LABELS], [row[: 1 + n + b] for row in rows])
    # The similarity cell (after the name and the grounding figures) of personas above ALIKE.
    loud = {(r, 1 + g) for r, p in enumerate(stats.personas) if alike(p.similarity, p.similarity_pairs)}
    texts = _table(
        ["Persona", *GROUNDING_FIGURES, SIMILARITY_FIGURE],
        [[row[0], *row[1 + n + b :]] for row in rows],
        loud,
    )
    return scores, texts


def _judges(stats: Stats, names: dict[str, str] | None) -> list[str]:
    """Each judge, and each persona's drafts, against the editors; each jury's independence."""
    out = [
        "<h2>Judges against the editors</h2>",
        "<p>Over published records: each judge's original verdict and score against the published "
        "ones, which editors decided. κ is Cohen's kappa (1 agrees beyond chance, 0 no better than "
        "chance); Mean Δ above 0 is lenient, below 0 harsh; With majority is how often a jury member "
        "voted with its jury's majority. α is Krippendorff's alpha of every judge and the editor.</p>",
    ]
    if not stats.judges:
        return [*out, "<p>No published records yet.</p>"]
    out += [
        _table(["Judge", *JUDGE_FIGURES], rows_of(judge_columns(stats))),
        _table(["Persona", *PERSONA_JUDGE_FIGURES], rows_of(persona_judge_columns(stats, names))),
    ]
    if stats.juries:
        out += [
            "<h2>Juries</h2>",
            f"<p>{_e(EFFECTIVE_JUDGES)}</p>",
            _table(list(JURY_HEADERS), jury_rows(stats)),
        ]
    return out


def render(stats: Stats, names: dict[str, str] | None = None) -> str:
    """The whole report as one string."""
    agreement = [
        [display_name(x.a, names), display_name(x.b, names), f"{x.agree} of {x.tools}", pct(x.rate)]
        for x in stats.agreement
    ]
    ship_rows = [(display_name(p.persona, names), p.ship_rate) for p in stats.personas]
    ship_rows.append(("Panel verdict", stats.ship_panel_share))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Panel stats · {_e(stats.root)}</title><style>{CSS}</style></head><body>",
        f"<h1>Panel stats</h1><p>Records under <code>{_e(stats.root)}</code>.</p>",
        _table(["Figure", "Value"], [list(row) for row in overview_rows(stats)]),
    ]
    if stats.all_warnings:
        out.append("<h2>Warnings</h2>")
        out += [f'<p class="warn">{_e(w.sentence(names))}</p>' for w in stats.all_warnings]
    if stats.personas:
        scores, texts = _persona_tables(stats, names)
        similar = {
            (r, 3) for r, x in enumerate(stats.similarity) if alike(x.mean, x.tools)
        }  # "Mean similarity"
        out += [
            "<h2>Personas</h2>",
            scores,
            '<div class="charts">',
            *(
                f"<figure><figcaption>{_e(display_name(p.persona, names))}</figcaption>"
                f"{histogram(display_name(p.persona, names), p.buckets)}</figure>"
                for p in stats.personas
            ),
            "</div>",
            "<h2>Ship rate</h2>",
            f"<p>The dashed line marks {pct(RUBBER_STAMP)}: above it (with at least {MIN_TOOLS} tools) "
            "a verdict is a rubber stamp.</p>",
            ship_chart(ship_rows),
            "<h2>Verdict agreement</h2>",
            f"<p>Share of the tools both personas reviewed on which they gave the same verdict. Above "
            f"{pct(REDUNDANT)} two personas are one voice.</p>",
            heatmap(stats, names),
            _table(["Persona", "Persona", "Same verdict", "Share"], agreement),
            "<h2>Claims and distinctness</h2>",
            "<p>Claims: the specifics each persona's reviews state (prices, licenses, figures, names), "
            "checked against the tool's material; the shares are of its claims. Similarity: how alike "
            "its paragraphs are to the other personas' paragraphs about the same tool (TF-IDF cosine, "
            f"0 to 1); above {ALIKE:.2f} two voices say the same thing.</p>",
            texts,
            _table(
                ["Persona", "Persona", "Tools", "Mean similarity"], similarity_rows(stats, names), similar
            ),
            "<h2>Community</h2>",
            f"<p>Community vote against the panel's verdict, per tool: {_e(community_line(stats))}.</p>",
            "<h2>Changes to the model's drafts</h2>",
            _table(["Persona", *CHANGES_FIGURES], rows_of(changes_columns(stats, names))),
            *_judges(stats, names),
        ]
    else:
        out.append("<p>No panel records found.</p>")
    if stats.skipped:
        out.append("<h2>Files skipped</h2><ul>")
        out += [f'<li class="bad"><code>{_e(s.path)}</code>: {_e(s.reason)}</li>' for s in stats.skipped]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
