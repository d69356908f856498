"""Fetching a tool's sources again, for `panel recheck`: conditional requests against the stored
snapshots, a new snapshot and a re-read source for each address whose body changed, and the
check time moved on for each that did not. Sources a person added (no `reader`) are left alone.
Grounding the reviews again, and what that means for a published record, is editorial's part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from panel.errors import FetchError
from panel.intake.fetcher import Kind
from panel.intake.gather import Gatherer
from panel.intake.registries import package_of
from panel.intake.snapshots import Snapshot
from panel.intake.sources import read_body, to_source
from panel.records import MAX_SOURCE_CHARS, MAX_SOURCES_CHARS, Source, SourceReader, Tool

Outcome = Literal["changed", "unchanged", "failed", "kept"]
_KINDS: dict[SourceReader, Kind] = {"page": "page", "hub": "text"}


@dataclass(frozen=True)
class SourceCheck:
    """One source after a recheck: as it now stands, and what happened to it."""

    before: Source
    after: Source
    outcome: Outcome
    detail: str = ""


class Rechecker:
    """Rechecks sources through one gatherer (its fetcher and evidence folder), fetching each
    address once per run however many records cite it."""

    def __init__(self, gatherer: Gatherer) -> None:
        self.gatherer = gatherer
        self._seen: dict[str, tuple[Snapshot, bytes] | FetchError] = {}

    def _get(self, source: Source) -> tuple[Snapshot, bytes]:
        url = source.url
        if url not in self._seen:
            kind = _KINDS.get(source.reader or "page", "json")
            try:
                self._seen[url] = self.gatherer.get(url, kind)
            except FetchError as exc:
                self.gatherer.report(exc, url)
                self._seen[url] = exc
        got = self._seen[url]
        if isinstance(got, FetchError):
            raise got
        return got

    def recheck(self, tool: Tool, now: datetime) -> tuple[Tool, list[SourceCheck]]:
        """The tool with its fetched sources brought up to date, and what happened to each."""
        checks: list[SourceCheck] = []
        for index, source in enumerate(tool.sources):
            if not source.reader or not source.url:
                checks.append(SourceCheck(source, source, "kept"))
                continue
            try:
                snapshot, body = self._get(source)
            except FetchError as exc:
                checks.append(SourceCheck(source, source, "failed", exc.problem))
                continue
            if snapshot.id == source.snapshot:
                checks.append(SourceCheck(source, source.model_copy(update={"checked_at": now}), "unchanged"))
                continue
            others = sum(len(s.text) for i, s in enumerate(tool.sources) if i != index)
            try:
                read = read_body(source.title, source.reader, snapshot, body, package_of(source.title))
            except FetchError as exc:
                checks.append(SourceCheck(source, source, "failed", exc.problem))
                continue
            new = to_source(read, min(MAX_SOURCE_CHARS, MAX_SOURCES_CHARS - others))
            if new is None:
                checks.append(SourceCheck(source, source, "failed", "the new page has no text to read"))
                continue
            checks.append(SourceCheck(source, new.model_copy(update={"checked_at": now}), "changed"))
        return tool.model_copy(update={"sources": [c.after for c in checks]}), checks
