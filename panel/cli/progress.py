"""Progress for long runs: a live bar on a terminal; elsewhere (cron logs, pipes) plain lines,
at least one every ten seconds, so a slow model never looks like a hung one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from panel.cli.terminal import err
from panel.generation.assembly import PanelOutcome
from panel.records import Tool


class _Heartbeat:
    """Plain progress lines for a log or a pipe: `line()` at most `every` seconds apart while
    `active()`, from a daemon thread, however long the work between events takes."""

    def __init__(self, console: Console, every: float, line: Callable[[], str], active: Callable[[], bool]):
        self.console = console
        self.every = every
        self.line = line
        self.active = active
        self.last = time.monotonic()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="panel-progress", daemon=True)
            self.thread.start()

    def print(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        self.last = time.monotonic()

    def _run(self) -> None:
        # Checked twice a second and due a second early, so lines come at most `every` apart.
        while not self.stopped.wait(0.5):
            if self.active() and time.monotonic() - self.last >= self.every - 1:
                self.print(self.line())

    def stop(self) -> None:
        self.stopped.set()


class ProgressEvents:
    """Progress for long runs, one step per finished review: a live bar with an ETA on a
    terminal; elsewhere (cron logs, a pipe) a line per review and, while none finishes, a status
    line at least every `every` seconds, so a slow model never looks like a hung one."""

    def __init__(self, console: Console = err, names: dict[str, str] | None = None, every: float = 10.0):
        self.console = console
        self.names = names or {}
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.total = 0
        self.reused = 0
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self.first_done: float | None = None
        self.beat = _Heartbeat(
            console,
            every,
            lambda: f"[{time.strftime('%H:%M:%S')}] {self.status()}",
            lambda: self.done < self.total,
        )

    def say(self, message: str) -> None:
        self.beat.print(f"· {message}")

    def planned(self, jobs: int, reused: int) -> None:
        self.total += jobs
        self.reused += reused
        if not jobs:
            return
        if not self.live:
            self.beat.start()
            return
        if self.progress is None:
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
        elif self.task is not None:
            self.progress.update(self.task, total=self.total)

    def status(self) -> str:
        """'3/8 reviews · 1.2 reviews/min · ETA 4 min 10 s', the rate from the first finished
        review on (engine start-up is not work per review)."""
        line = f"{self.done}/{self.total} reviews"
        if self.failed:
            line += f" ({self.failed} failed)"
        if self.first_done is not None and self.done > 1:
            rate = (self.done - 1) / max(time.monotonic() - self.first_done, 1e-6)
            line += f" · {60 * rate:.1f} reviews/min"
            if self.done < self.total:
                line += f" · ETA {_duration((self.total - self.done) / rate)}"
        elif self.done == 0:
            line += f" · working for {_duration(time.monotonic() - self.started)}, no review finished yet"
        return line

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None:
        self.done += 1
        self.failed += not ok
        if self.first_done is None:
            self.first_done = time.monotonic()
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)
            return
        state = "ok" if ok else "FAILED"
        who = self.names.get(persona, persona)
        self.beat.print(
            f"[{self.done}/{self.total}] {tool.name} · {who}: {state} · {detail} · {self.status()}"
        )

    def panel_done(self, outcome: PanelOutcome) -> None:
        pass

    def stop(self) -> None:
        self.beat.stop()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.reused:
            self.say(f"Reused {self.reused} up-to-date review(s) from earlier runs")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class BatchProgress:
    """Batch progress: a live bar on a terminal (tools, reviews per minute, tokens/s, failures,
    ETA); on anything else, such as a cron log, one plain line at least every `every` seconds.
    The first few bad rows are named on screen; all of them are in errors.jsonl."""

    SHOW_BAD_ROWS = 5

    def __init__(self, total_tools: int | None, console: Console = err, every: float = 10.0):
        self.console = console
        self.total = total_tools
        self.first_review: float | None = None
        self.tools = self.reviews = self.tokens = self.failed = self.bad_rows = 0
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.beat = _Heartbeat(console, every, self.line, lambda: True)
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
        else:
            self.beat.start()

    def _rates(self) -> tuple[float, float]:
        """Reviews and tokens per second since the first review finished (engine start-up and
        the structured-output check are not work per review)."""
        if self.first_review is None:
            return 0.0, 0.0
        elapsed = max(time.monotonic() - self.first_review, 1e-6)
        return max(self.reviews - 1, 0) / elapsed, self.tokens / elapsed

    def _refresh(self) -> None:
        rps, tps = self._rates()
        failures = self.failed + self.bad_rows
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task,
                completed=self.tools + self.bad_rows,
                rate=f"{60 * rps:.1f} reviews/min · {tps:,.0f} tokens/s",
                failed=f"{failures} failed" if failures else "",
            )

    def line(self) -> str:
        rps, tps = self._rates()
        done = self.tools + self.bad_rows
        total = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total and self.tools and done < self.total and self.first_review is not None:
            per_tool = (time.monotonic() - self.first_review) / self.tools
            eta = f" · ETA {_duration(per_tool * (self.total - done))}"
        return (
            f"[{time.strftime('%H:%M:%S')}] {done}{total} rows · {self.reviews} reviews · "
            f"{60 * rps:.1f} reviews/min · {tps:,.0f} tokens/s · {self.failed} failed reviews · "
            f"{self.bad_rows} bad rows{eta}"
        )

    # Events
    def say(self, message: str) -> None:
        self.beat.print(f"· {message}")

    def planned(self, jobs: int, reused: int) -> None:
        pass

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None:
        self.reviews += 1
        self.failed += not ok
        if self.first_review is None:
            self.first_review = time.monotonic()
        self._refresh()

    def panel_done(self, outcome: PanelOutcome) -> None:
        self.tools += 1
        self.tokens += outcome.completion_tokens
        self._refresh()

    def bad_row(self, where: str, name: str | None, reason: str) -> None:
        self.bad_rows += 1
        if self.bad_rows <= self.SHOW_BAD_ROWS:
            label = f" ({name})" if name else ""
            self.beat.print(f"· bad row, {where}{label}: {reason}")
        elif self.bad_rows == self.SHOW_BAD_ROWS + 1:
            self.beat.print("· more bad rows: every one is listed in the run's errors.jsonl")
        self._refresh()

    def stop(self) -> None:
        self.beat.stop()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class IntakeProgress:
    """Progress through a launch feed: a status line (entries done, rate, time left) at least
    every `every` seconds on stderr, between the per-page lines on stdout."""

    def __init__(self, console: Console = err, every: float = 10.0):
        self.done = 0
        self.total: int | None = None
        self.started = time.monotonic()
        self.beat = _Heartbeat(
            console, every, self.line, lambda: self.total is None or self.done < self.total
        )

    def __call__(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        self.beat.start()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        total = f" of {self.total:,}" if self.total is not None else ""
        left = ""
        if self.total and rate > 0 and self.done < self.total:
            left = f" · about {_duration((self.total - self.done) / rate)} left"
        return f"[{time.strftime('%H:%M:%S')}] {self.done:,}{total} entries · {rate:.1f} entries/s{left}"

    def stop(self) -> None:
        self.beat.stop()
