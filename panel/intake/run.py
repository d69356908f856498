"""`panel intake`: URLs or a launch feed in, one tool file per tool out.

Each tool is gathered (`gather`), its file written or refreshed (`toolfile`), and for a feed the
entry is recorded as taken in (`state`), so a re-run, or a run after `kill -9`, goes on where it
stopped. Every page fetched, skipped, refused or failed is reported as it happens; a failure
never stops the other entries, and the exit code says whether any happened.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from panel.errors import FetchError, InputError
from panel.intake.feeds import BadEntry, Entry, Feed, open_feed
from panel.intake.fetcher import MAX_FEED_BYTES, Fetcher, Response
from panel.intake.gather import Event, EventSink, Gathered, Gatherer, Verb
from panel.intake.links import PAGE_BUDGET
from panel.intake.snapshots import Snapshots
from panel.intake.sources import build_sources
from panel.intake.state import Taken
from panel.intake.toolfile import Written, read_existing, tool_path, write_tool_file
from panel.records import MAX_DESCRIPTION, Source, Tool

# Registry facts that conflict with the vendor's pages, one line each (the caller checks them
# with the claims machinery, which lives above intake).
Conflicts = Callable[[Tool], list[str]]
Progress = Callable[[int, int | None], None]  # entries done, entries in all (None: unknown)
_VERBS: dict[str, Verb] = {"written": "Wrote", "updated": "Updated", "unchanged": "Unchanged"}


@dataclass
class Tally:
    """What a run did, for its summary line and its exit code."""

    entries: int = 0
    already: int = 0  # feed entries taken in by an earlier run
    written: list[Written] = field(default_factory=list)
    failures: int = 0  # pages refused or failed, entries that could not be read or written

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def line(self) -> str:
        counts = {s: sum(w.status == s for w in self.written) for s in ("written", "updated", "unchanged")}
        parts = [f"{self.entries} {'entry' if self.entries == 1 else 'entries'}"]
        if self.already:
            parts.append(f"{self.already} taken in before (skipped)")
        parts += [f"{n} {status}" for status, n in counts.items() if n]
        plural = "s" if self.failures != 1 else ""
        parts.append(f"{self.failures} failure{plural}" if self.failures else "no failures")
        return "Intake: " + ", ".join(parts)


class Intake:
    """One run of `panel intake`, writing tool files into `folder`."""

    def __init__(
        self,
        fetcher: Fetcher,
        outputs: Path,
        folder: Path,
        on_event: EventSink,
        conflicts: Conflicts,
        progress: Progress | None = None,
        budget: int | None = None,
    ) -> None:
        self.outputs = outputs
        self.folder = folder
        self.on_event = on_event
        self.conflicts = conflicts
        self.progress = progress
        self.gatherer = Gatherer(fetcher, Snapshots.under(outputs), on_event, budget=budget or PAGE_BUDGET)
        self.tally = Tally()

    def urls(self, urls: Sequence[str]) -> Tally:
        for number, url in enumerate(urls, start=1):
            self.tally.entries += 1
            self._take(url)
            if self.progress:
                self.progress(number, len(urls))
        return self.tally

    def open(self, feed: str) -> tuple[Feed, str]:
        """The feed (an http(s) address or a file) checked whole, and its key for the state;
        InputError when it cannot be read."""
        if feed.startswith(("http://", "https://")):

            def readable(response: Response) -> None:
                open_feed(response.body or b"", response.content_type, feed, response.final_url)

            try:
                snapshot, body = self.gatherer.get(feed, "feed", readable)
            except FetchError as exc:
                raise InputError(f"cannot read the feed: {exc.problem}", where=feed, hint=exc.hint) from None
            return open_feed(body, snapshot.content_type, feed, snapshot.final_url), feed
        path = Path(feed)
        if not path.is_file():
            raise InputError("no such feed file", where=feed, hint="give a file or an http(s) address")
        if path.stat().st_size > MAX_FEED_BYTES:
            raise InputError(f"the feed is over the {MAX_FEED_BYTES:,}-byte limit", where=feed)
        try:
            body = path.read_bytes()  # bytes: an XML feed declares its own encoding
        except OSError as exc:
            raise InputError(f"cannot read the feed: {exc.strerror or exc}", where=feed) from None
        return open_feed(body, "", feed), str(path.resolve())

    def feed(self, feed: Feed, key: str, limit: int | None = None) -> Tally:
        taken = Taken(self.outputs, key)
        total = min(feed.count, limit) if limit else feed.count
        for number, entry in enumerate(feed.entries(), start=1):
            if limit and number > limit:
                break
            self._entry(entry, taken)
            if self.progress:
                self.progress(number, total)
        if self.tally.already:
            self.on_event(Event("Note", feed.where, f"{self.tally.already} entries were taken in before"))
        return self.tally

    def _entry(self, entry: Entry | BadEntry, taken: Taken) -> None:
        self.tally.entries += 1
        if isinstance(entry, BadEntry):
            self.tally.failures += 1
            self.on_event(Event("Skipped", entry.where, entry.problem))
            return
        if entry.key in taken:
            self.tally.already += 1
            return
        written, gathered = self._take(entry.link, entry)
        if written is not None and not gathered.retry:
            taken.add(entry.key, written.path)

    def _take(self, url: str, entry: Entry | None = None) -> tuple[Written | None, Gathered]:
        """Gather one tool and write its file; failures are counted and reported, never raised."""
        gathered = self.gatherer.gather(url, entry.name if entry else "")
        self.tally.failures += len(gathered.failures)
        if not gathered.main_read and entry is None:
            return None, gathered  # nothing read for a bare URL: no file to write
        try:
            written = self._write(gathered, entry)
        except FetchError as exc:
            self.tally.failures += 1
            self.on_event(Event("Failed", exc.where or url, exc.problem))
            return None, gathered
        self.tally.written.append(written)
        verb = _VERBS[written.status]
        self.on_event(Event(verb, str(written.path)))
        return written, gathered

    def _write(self, gathered: Gathered, entry: Entry | None) -> Written:
        name = gathered.name or (urllib.parse.urlsplit(gathered.url).hostname or "tool")
        tagline = (entry.tagline if entry else "") or gathered.tagline
        description = gathered.description or (entry.summary if entry else "") or tagline or name
        path = tool_path(self.folder, name)
        before = read_existing(path)
        sources = build_sources(gathered.reads, before.kept_sources(self.folder) if before else [])
        fields = {
            "name": name,
            "tagline": tagline,
            "description": description[:MAX_DESCRIPTION],
            "url": gathered.url,
        }
        notes = [*self._conflicts(fields, sources, gathered.url), *gathered.notes]
        return write_tool_file(path, fields, sources, before, notes)

    def _conflicts(self, fields: dict[str, str], sources: list[Source], url: str) -> list[str]:
        try:
            tool = Tool.model_validate({**{k: v for k, v in fields.items() if v}, "sources": sources})
        except ValidationError:
            return []
        found = self.conflicts(tool)
        for conflict in found:
            self.on_event(Event("Note", url, f"conflict: {conflict}"))
        return [f"Conflict: {c}" for c in found]
