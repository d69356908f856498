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
from typing import Protocol

from panel.errors import EngineUnavailable
from panel.feeds import feed_format, read_feed
from panel.panel import Events, PanelOutcome
from panel.records import Tool, utcnow
from panel.runs import RunFolder, RunManifest
from panel.session import Session

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


async def run_batch(
    session: Session,
    feed: Path,
    run: RunFolder,
    events: BatchEvents,
    *,
    limit: int | None = None,
    fresh: bool = False,
    force: bool = False,
) -> BatchResult:
    kind = feed_format(feed)
    rows = read_feed(feed)  # raises InputError (exit 2) if the feed can't be read at all
    runner = session.runner(events, fresh=fresh, force=force, busy="skip")
    default = runner.profiles[session.personas[0].id]
    manifest = RunManifest(
        run_id=run.path.name,
        feed=str(feed),
        feed_format=kind,
        profile=default.name,
        model=default.model,
        engine=default.engine,
        concurrency=default.concurrency,
        personas=[p.id for p in session.personas],
    )
    counts = manifest.counts
    in_flight: dict[Path, str] = {}  # panel path -> feed row, for tools being reviewed
    started = time.monotonic()
    last_write = 0.0

    def tools() -> Iterator[Tool]:
        for row in itertools.islice(rows, limit):
            counts.rows += 1
            if row.tool is None:
                counts.bad_rows += 1
                run.error(where=row.where, tool=row.name, reason=row.error or "invalid row")
                events.bad_row(row.where, row.name, row.error or "invalid row")
                continue
            path = session.outputs.panel_path(row.tool.name)
            if path in in_flight:
                counts.bad_rows += 1
                reason = f"the same tool as {in_flight[path]}, which is still being reviewed"
                run.error(where=row.where, tool=row.tool.name, reason=reason)
                events.bad_row(row.where, row.tool.name, reason)
                continue
            in_flight[path] = row.where
            counts.tools += 1
            yield row.tool

    def record(outcome: PanelOutcome) -> None:
        where = in_flight.pop(outcome.path, "?")
        status_counter = {
            "written": "panels_written",
            "unchanged": "panels_unchanged",
            "kept-edited": "panels_kept_edited",
            "busy": "panels_busy",
        }[outcome.status]
        setattr(counts, status_counter, getattr(counts, status_counter) + 1)
        counts.reviews_generated += outcome.generated
        counts.reviews_reused += outcome.reused
        counts.reviews_failed += len(outcome.failures)
        counts.panels_with_failures += bool(outcome.failures)
        manifest.prompt_tokens += outcome.prompt_tokens
        manifest.completion_tokens += outcome.completion_tokens
        for failure in outcome.failures:
            run.error(where=where, tool=outcome.tool.name, persona=failure.persona, reason=failure.reason)

    def save(status: str | None = None, message: str = "") -> None:
        manifest.wall_s = round(time.monotonic() - started, 3)
        manifest.generation_s = round(runner.generation.seconds, 3)
        manifest.requests_sent = runner.pool.requests_sent
        if manifest.wall_s > 0:
            manifest.completion_tokens_per_s = round(manifest.completion_tokens / manifest.wall_s, 1)
        if status:
            manifest.status = status  # type: ignore[assignment]
            manifest.finished_at = utcnow()
            manifest.message = message
        run.write_manifest(manifest)

    run.open()
    save()
    try:
        async for outcome in runner.stream(tools()):
            record(outcome)
            if time.monotonic() - last_write > MANIFEST_EVERY_S:
                last_write = time.monotonic()
                save()
    except EngineUnavailable as exc:
        save("aborted", exc.line())
    except BaseException as exc:  # Ctrl-C, cancellation, or a bug: the manifest still says so
        save("interrupted", f"{type(exc).__name__}: {exc}")
        raise
    else:
        save("complete")
    finally:
        run.close()
    return BatchResult(manifest=manifest, run=run)
