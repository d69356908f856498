"""Batch scoring of a feed: streamed, concurrent, resumable, with a run folder to show for it.

Resuming needs no state of its own: panels on disk are the state. A tool whose panel is
complete and current costs no request; a tool with some personas done runs only the missing
ones; an interrupted run leaves only whole files behind (atomic writes, one-write error lines).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from panel.errors import EngineUnavailable
from panel.generation.runner import Events, PanelOutcome, PanelRunner
from panel.generation.runs import RunFolder, RunManifest
from panel.generation.session import Session
from panel.grounding.quality import thin_material
from panel.inputs.feeds import FeedRow, feed_format, read_feed
from panel.records import Tool, utcnow
from panel.records.store import Outputs

MANIFEST_EVERY_S = 5.0


@dataclass
class BatchResult:
    manifest: RunManifest
    run: RunFolder

    @property
    def exit_code(self) -> int:
        c = self.manifest.counts
        ok = self.manifest.status == "complete" and not c.bad_rows and not c.reviews_failed
        return 0 if ok else 1


class BatchEvents(Events, Protocol):
    """What a batch reports beyond a panel run: rows skipped and panels finished."""

    def bad_row(self, where: str, name: str | None, reason: str) -> None: ...


class BatchCounter:
    """Keeps a run's manifest: counts rows, tools and panels as they pass, and rewrites the
    manifest every few seconds and once at the end."""

    def __init__(self, manifest: RunManifest, run: RunFolder, events: BatchEvents):
        self.manifest = manifest
        self.counts = manifest.counts
        self.run = run
        self.events = events
        self.started = time.monotonic()
        self.last_write = 0.0

    def bad_row(self, where: str, name: str | None, reason: str) -> None:
        self.counts.bad_rows += 1
        self.run.error(where=where, tool=name, reason=reason)
        self.events.bad_row(where, name, reason)

    def panel(self, outcome: PanelOutcome, where: str) -> None:
        c = self.counts
        if outcome.status == "written":
            c.panels_written += 1
        elif outcome.status == "unchanged":
            c.panels_unchanged += 1
        elif outcome.status == "kept-edited":
            c.panels_kept_edited += 1
        else:
            c.panels_busy += 1
        c.reviews_generated += outcome.generated
        c.reviews_reused += outcome.reused
        c.reviews_failed += len(outcome.failures)
        c.panels_with_failures += bool(outcome.failures)
        self.manifest.prompt_tokens += outcome.prompt_tokens
        self.manifest.completion_tokens += outcome.completion_tokens
        for failure in outcome.failures:
            self.run.error(
                where=where,
                tool=outcome.tool.name,
                persona=failure.persona,
                reason=failure.reason,
                diagnosis=failure.diagnosis,
            )

    def save(self, runner: PanelRunner, status: str | None = None, message: str = "") -> None:
        m = self.manifest
        m.wall_s = round(time.monotonic() - self.started, 3)
        m.generation_s = round(runner.generation.seconds, 3)
        m.requests_sent = runner.pool.requests_sent
        if m.wall_s > 0:
            m.completion_tokens_per_s = round(m.completion_tokens / m.wall_s, 1)
        if status:
            m.status = status  # type: ignore[assignment]
            m.finished_at = utcnow()
            m.message = message
        self.run.write_manifest(m)
        self.last_write = time.monotonic()

    def save_now_and_then(self, runner: PanelRunner) -> None:
        if time.monotonic() - self.last_write > MANIFEST_EVERY_S:
            self.save(runner)


def _tools(
    rows: Iterator[FeedRow],
    limit: int | None,
    outputs: Outputs,
    counter: BatchCounter,
    in_flight: dict[Path, str],
    refuse_thin: bool,
) -> Iterator[Tool]:
    """The feed's valid tools; bad rows and repeats of a tool in review are counted and skipped,
    and so are tools too thin to judge where the profile says `thin_material: refuse`."""
    for row in itertools.islice(rows, limit):
        counter.counts.rows += 1
        if row.tool is None:
            counter.bad_row(row.where, row.name, row.error or "invalid row")
            continue
        thin = thin_material(row.tool) if refuse_thin else None
        if thin is not None:
            counter.bad_row(row.where, row.tool.name, thin)
            continue
        path = outputs.panel_path(row.tool.name)
        if path in in_flight:
            reason = f"the same tool as {in_flight[path]}, which is still being reviewed"
            counter.bad_row(row.where, row.tool.name, reason)
            continue
        in_flight[path] = row.where
        counter.counts.tools += 1
        yield row.tool


async def run_batch(
    session: Session,
    feed: Path,
    run: RunFolder,
    events: BatchEvents,
    *,
    limit: int | None = None,
    fresh: bool = False,
    force: bool = False,
    claims: Literal["rules", "model"] | None = None,
) -> BatchResult:
    kind = feed_format(feed)
    rows = read_feed(feed)  # raises InputError (exit 2) if the feed can't be read at all
    runner = session.runner(events, fresh=fresh, force=force, busy="skip", claims=claims)
    judges = runner.judges[session.personas[0].id]
    default = judges.profile
    manifest = RunManifest(
        jury=judges.jury.name if judges.jury is not None else None,
        run_id=run.path.name,
        feed=str(feed),
        feed_format=kind,
        profile=default.name,
        model=default.model,
        engine=default.engine,
        concurrency=default.concurrency,
        personas=[p.id for p in session.personas],
    )
    counter = BatchCounter(manifest, run, events)
    in_flight: dict[Path, str] = {}  # panel path -> feed row, for tools being reviewed

    def on_panel(outcome: PanelOutcome) -> None:
        counter.panel(outcome, in_flight.pop(outcome.path, "?"))
        counter.save_now_and_then(runner)

    run.open()
    counter.save(runner)
    try:
        refuse_thin = any(p.thin_material == "refuse" for p in runner.all_profiles)
        tools = _tools(rows, limit, session.outputs, counter, in_flight, refuse_thin)
        await runner.run_stream(tools, on_panel)
    except EngineUnavailable as exc:
        counter.save(runner, "aborted", exc.line())
    except BaseException as exc:  # Ctrl-C, cancellation, or a bug: the manifest still says so
        counter.save(runner, "interrupted", f"{type(exc).__name__}: {exc}")
        raise
    else:
        counter.save(runner, "complete")
    finally:
        run.close()
    return BatchResult(manifest=manifest, run=run)
