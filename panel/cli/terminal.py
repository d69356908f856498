"""What the terminal shows of records: scorecards, decision tables, diffs and batch summaries; and
where output goes (a clean stdout for --json, engine output to a log). Progress is in `progress`."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from panel.generation.runs import RunManifest
from panel.grounding.ground import counts
from panel.grounding.material import Material, material_for
from panel.grounding.rules import rules_claims
from panel.records import Claim, Comparison, Tool, ToolPanel, panels_of

err = Console(stderr=True, highlight=False)


def panel_line(panel: ToolPanel) -> str:
    """'Ship · 3 ship / 1 skip · 75%' (plus failures and mean), as on the published pages."""
    s = panel.summary
    if s.verdict is None:
        return f"No verdict · {s.failed} failed"
    line = f"{s.verdict.capitalize()} · {s.ship} ship / {s.skip} skip · {s.ship_pct}%"
    if s.mean_score is not None:
        line += f" · mean {s.mean_score:g}"
    if s.failed:
        line += f" · {s.failed} failed"
    return line


def _first_words(text: str, n: int = 16) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def scorecard(panel: ToolPanel, names: dict[str, str]) -> Table:
    table = Table(
        title=Text(f"{panel.tool.name} · {panel_line(panel)}", style="bold"),
        title_justify="left",
        expand=False,
    )
    table.add_column("Persona", no_wrap=True)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Review", overflow="fold", max_width=72)
    for r in panel.reviews:
        verdict = Text(r.verdict, style="green" if r.verdict == "ship" else "red")
        body = Text(_first_words(r.review))
        grounding = counts(r.claims)
        body.append(f"\n{grounding.line()}", style="bold red" if grounding.open_contradicted else "dim")
        for flag in r.flags:
            body.append(f"\n⚠ {flag}", style="yellow" if not flag.startswith("verdict") else "bold red")
        table.add_row(names.get(r.persona, r.persona), f"{r.score}/100", verdict, body)
    for f in panel.failures:
        table.add_row(names.get(f.persona, f.persona), "—", Text("failed", style="bold red"), Text(f.reason))
    return table


def _community(comparison: Comparison, tool: Tool) -> str:
    votes = comparison.community.get(tool.name)
    if votes is None or votes.ship + votes.skip == 0:
        return "No community votes yet"
    return f"{votes.ship} ship / {votes.skip} skip"


def decision_table(comparison: Comparison) -> Table:
    table = Table(
        title=Text(f"{comparison.title}: {comparison.question}", style="bold"), title_justify="left"
    )
    table.add_column("Decision", style="bold", no_wrap=True)
    for panel in comparison.panels:
        table.add_column(panel.tool.name, overflow="fold", max_width=48)
    rows = [
        ("Panel verdict", lambda p: Text(panel_line(p))),
        ("Community", lambda p: Text(_community(comparison, p.tool))),
        (
            "Pricing",
            lambda p: Text(" · ".join(x for x in (p.tool.pricing.entry, p.tool.pricing.detail) if x) or "—"),
        ),
        ("Best for", lambda p: Text(p.tool.tagline or "—")),
        ("Category", lambda p: Text(p.tool.category or "—")),
    ]
    for label, cell in rows:
        table.add_row(label, *[cell(p) for p in comparison.panels])
    d = comparison.decision
    table.caption = {
        "ship-with": f"Ship with {d.winner}. {d.reason}",
        "split": f"Split decision. {d.reason}",
        "neither": f"Ship with neither. {d.reason}",
    }[d.outcome]
    table.caption_justify = "left"
    return table


@contextlib.contextmanager
def engine_output_to(log: Path | None) -> Iterator[None]:
    """Send everything an in-process engine prints (vLLM's warnings, its worker processes) to
    `log`, while panel's own messages and progress bar keep the terminal.

    File descriptors 1 and 2 point at the log for the duration; panel's consoles write to saved
    copies of the real ones. None: leave the output alone.
    """
    if log is None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    ours = os.fdopen(os.dup(saved_err), "w", encoding="utf-8", errors="replace")
    before = err.file
    err.file = ours
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        ours.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        err.file = before
        ours.close()


@contextlib.contextmanager
def json_stdout(enabled: bool) -> Iterator[IO[str]]:
    """With --json, stdout carries the JSON and nothing else.

    File descriptor 1 is pointed at stderr for the duration, so that anything else that prints
    (vLLM's logs, its worker processes, progress bars) lands on stderr; the JSON is written to a
    saved copy of the real stdout.
    """
    if not enabled:
        yield sys.stdout
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    real = os.fdopen(saved, "w", encoding="utf-8", closefd=True)
    try:
        yield real
    finally:
        sys.stdout.flush()
        real.flush()
        os.dup2(real.fileno(), 1)
        real.close()


def batch_summary(manifest: RunManifest, run_dir: str) -> Table:
    c = manifest.counts
    table = Table(
        title=f"Batch {manifest.run_id}: {manifest.status}", title_justify="left", show_header=False
    )
    table.add_column("what", style="bold")
    table.add_column("value")
    rows = [
        ("Feed", f"{manifest.feed} ({manifest.feed_format}, {c.rows} rows)"),
        (
            "Profile",
            f"{manifest.profile} ({manifest.engine}, {manifest.model}, concurrency {manifest.concurrency})",
        ),
        (
            "Tools",
            f"{c.tools} · {c.panels_written} written · {c.panels_unchanged} up to date"
            f" · {c.panels_kept_edited} kept (edited by a person)"
            + (f" · {c.panels_busy} left to another run reviewing them now" if c.panels_busy else ""),
        ),
        (
            "Reviews",
            f"{c.reviews_generated} generated · {c.reviews_reused} reused · {c.reviews_failed} failed",
        ),
        ("Bad rows", str(c.bad_rows)),
        ("Requests", str(manifest.requests_sent)),
        (
            "Tokens",
            f"{manifest.prompt_tokens:,} prompt · {manifest.completion_tokens:,} completion"
            f" · {manifest.completion_tokens_per_s:,.1f} completion tokens/s",
        ),
        ("Wall time", f"{manifest.wall_s:.1f} s"),
        ("Run folder", run_dir),
    ]
    if manifest.message:
        rows.append(("Note", manifest.message))
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def _claims_diff(draft: str, now: list[Claim], material: Material) -> list[Text]:
    """Claims the edit added or removed, compared by their text."""
    before = {c.text: c for c in rules_claims(draft, material)}
    after = {c.text: c for c in now}
    lines = []
    for sign, claims, style in (
        ("+", after.keys() - before.keys(), "green"),
        ("-", before.keys() - after.keys(), "red"),
    ):
        for text in sorted(claims):
            claim = (after if sign == "+" else before)[text]
            verb = "appeared" if sign == "+" else "disappeared"
            lines.append(
                Text(f"    {sign} claim {verb}: {text!r} ({claim.kind}, {claim.status})", style=style)
            )
    return lines


def diff_view(record: ToolPanel | Comparison, names: dict[str, str]) -> Group:
    """What reviewers changed relative to the model's draft, per persona, plus the history."""
    panels = panels_of(record)
    parts: list[RenderableType] = []
    for panel in panels:
        changed = [r for r in panel.reviews if r.edited and r.original is not None]
        title = Text(
            f"{panel.tool.name}: {len(changed)} of {len(panel.reviews)} reviews changed", style="bold"
        )
        parts.append(title)
        for r in changed:
            o = r.original
            assert o is not None
            who = names.get(r.persona, r.persona.capitalize())
            line = Text(f"  {who}: ")
            if o.score != r.score:
                line.append(f"score {o.score} → {r.score} ({r.score - o.score:+d}); ")
            if o.verdict != r.verdict:
                line.append(f"verdict {o.verdict} → {r.verdict}; ", style="bold")
            if o.review != r.review:
                line.append("review text:")
            parts.append(line)
            if o.review != r.review:
                for row in difflib.unified_diff(
                    textwrap.wrap(o.review, 88), textwrap.wrap(r.review, 88), "draft", "now", lineterm="", n=1
                ):
                    style = "green" if row.startswith("+") else "red" if row.startswith("-") else "dim"
                    parts.append(Text("    " + row, style=style))
                parts += _claims_diff(o.review, r.claims, material_for(panel.tool))
    edits = [c for c in record.history if c.action in ("edited", "published", "regenerated")]
    if edits:
        parts.append(Text("History", style="bold"))
        for c in edits:
            fields = f": {', '.join(c.fields)}" if c.fields else ""
            note = f" ({c.note})" if c.note else ""
            parts.append(Text(f"  {c.at:%Y-%m-%d %H:%M} {c.by} {c.action}{fields}{note}"))
    return Group(*parts)
