"""Everything the terminal shows: scorecards, decision tables, progress, and a clean stdout for --json."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import IO

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from panel.panel import PanelOutcome
from panel.records import Comparison, Tool, ToolPanel
from panel.runs import RunManifest

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


class ProgressEvents:
    """Progress for long runs: a live bar on a terminal, plain lines otherwise (cron logs)."""

    def __init__(self, console: Console = err, names: dict[str, str] | None = None):
        self.console = console
        self.names = names or {}
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task = None
        self.total = 0
        self.reused = 0
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        self.console.print(f"· {message}", markup=False, highlight=False, soft_wrap=True)

    def planned(self, jobs: int, reused: int) -> None:
        self.total += jobs
        self.reused += reused
        if not jobs:
            return
        if self.live and self.progress is None:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("Reviewing", total=self.total, failed=0)
        elif self.progress is not None and self.task is not None:
            self.progress.update(self.task, total=self.total)

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None:
        self.done += 1
        self.failed += not ok
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)
        else:
            state = "ok" if ok else "FAILED"
            who = self.names.get(persona, persona)
            self.console.print(
                f"[{self.done}/{self.total}] {tool.name} · {who}: {state} · {detail}",
                markup=False,
                highlight=False,
            )

    def panel_done(self, outcome: PanelOutcome) -> None:
        pass

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.reused:
            self.say(f"Reused {self.reused} up-to-date review(s) from earlier runs")


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


class BatchProgress:
    """Batch progress: a live bar on a terminal (tools, reviews/s, tokens/s, failures, ETA);
    on anything else, such as a cron log, one plain line every `every` seconds."""

    def __init__(self, total_tools: int | None, console: Console = err, every: float = 10.0):
        self.console = console
        self.total = total_tools
        self.every = every
        self.started = time.monotonic()
        self.last_line = self.started
        self.tools = self.reviews = self.tokens = self.failed = self.bad_rows = 0
        self.progress: Progress | None = None
        self.task = None
        if console.is_terminal:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("Tools"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("[red]{task.fields[failed]}"),
                TimeRemainingColumn(),
                console=console,
            )
            self.progress.start()
            self.task = self.progress.add_task("batch", total=total_tools, rate="", failed="")

    def _rates(self) -> tuple[float, float]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return self.reviews / elapsed, self.tokens / elapsed

    def _refresh(self) -> None:
        rps, tps = self._rates()
        failures = self.failed + self.bad_rows
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task,
                completed=self.tools + self.bad_rows,
                rate=f"{rps:.1f} reviews/s · {tps:,.0f} tokens/s",
                failed=f"{failures} failed" if failures else "",
            )
        elif time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            self.console.print(self.line(), markup=False, highlight=False, soft_wrap=True)

    def line(self) -> str:
        rps, tps = self._rates()
        done = self.tools + self.bad_rows
        total = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total and done and done < self.total:
            eta = f" · ETA {(time.monotonic() - self.started) / done * (self.total - done):.0f} s"
        return (
            f"[{time.strftime('%H:%M:%S')}] {done}{total} rows · {self.reviews} reviews · "
            f"{rps:.1f} reviews/s · {tps:,.0f} tokens/s · {self.failed} failed reviews · "
            f"{self.bad_rows} bad rows{eta}"
        )

    # Events
    def say(self, message: str) -> None:
        self.console.print(f"· {message}", markup=False, highlight=False, soft_wrap=True)

    def planned(self, jobs: int, reused: int) -> None:
        pass

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None:
        self.reviews += 1
        self.failed += not ok
        self._refresh()

    def panel_done(self, outcome: PanelOutcome) -> None:
        self.tools += 1
        self.tokens += outcome.completion_tokens
        self._refresh()

    def bad_row(self, where: str, name: str | None, reason: str) -> None:
        self.bad_rows += 1
        self._refresh()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


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


def diff_view(record: ToolPanel | Comparison, names: dict[str, str]) -> Group:
    """What reviewers changed relative to the model's draft, per persona, plus the history."""
    panels = record.panels if isinstance(record, Comparison) else [record]
    parts: list[object] = []
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
    edits = [c for c in record.history if c.action in ("edited", "published", "regenerated")]
    if edits:
        parts.append(Text("History", style="bold"))
        for c in edits:
            fields = f": {', '.join(c.fields)}" if c.fields else ""
            note = f" ({c.note})" if c.note else ""
            parts.append(Text(f"  {c.at:%Y-%m-%d %H:%M} {c.by} {c.action}{fields}{note}"))
    return Group(*parts)
