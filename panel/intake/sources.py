"""A stored body as a source: a page's text or a registry's facts, fitted to the limits, naming
its snapshot, its address and when it was read. `gather` builds sources this way and `recheck`
rebuilds them the same way from a new body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panel.intake.extract import Page, read_page, read_plain
from panel.intake.fetcher import decode
from panel.intake.passages import fit
from panel.intake.registries import facts
from panel.intake.snapshots import Snapshot
from panel.records import (
    MAX_SOURCE_CHARS,
    MAX_SOURCE_TITLE,
    MAX_SOURCES,
    MAX_SOURCES_CHARS,
    Source,
    SourceReader,
)


@dataclass(frozen=True)
class Read:
    """A body read for a source, before it is fitted: the whole text, and the page it was."""

    title: str
    reader: SourceReader
    snapshot: Snapshot
    text: str
    page: Page | None = None  # for web pages: links, name, tagline, what needs a hand


def read_body(title: str, reader: SourceReader, snapshot: Snapshot, body: bytes, package: str = "") -> Read:
    """Read a stored body as the reader says (FetchFailed when a registry document is not what
    that registry serves)."""
    html = snapshot.content_type in ("text/html", "application/xhtml+xml")
    text = decode(body, snapshot.charset, html)
    if reader != "page":
        return Read(title, reader, snapshot, facts((reader, package), text, snapshot.url))
    page = read_page(text, snapshot.final_url) if html else read_plain(text, snapshot.final_url)
    return Read(title, reader, snapshot, page.text, page)


def to_source(read: Read, limit: int = MAX_SOURCE_CHARS) -> Source | None:
    """The source, its text fitted to `limit` characters; None when there is no text."""
    selection = fit(read.text, limit)
    if not selection.text.strip():
        return None
    snapshot = read.snapshot
    return Source(
        title=read.title[:MAX_SOURCE_TITLE],
        text=selection.text,
        url=snapshot.url,
        final_url=snapshot.final_url if snapshot.final_url != snapshot.url else "",
        snapshot=snapshot.id,
        fetched_at=snapshot.fetched_at,
        reader=read.reader,
        left_out=selection.left_out,
    )


def allocate(lengths: Sequence[int], total: int, each: int = MAX_SOURCE_CHARS) -> list[int]:
    """Character budgets for texts of these lengths: none over `each`, all within `total`,
    shared fairly (a short text takes what it needs, the long ones split the rest)."""
    limits = [0] * len(lengths)
    remaining, left = max(total, 0), len(lengths)
    for i in sorted(range(len(lengths)), key=lambda k: lengths[k]):
        share = min(lengths[i], each, remaining // left)
        limits[i] = share
        remaining -= share
        left -= 1
    return limits


def unique_titles(titles: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """The titles with ' (2)', ' (3)' added where one repeats: a source is known by its title."""
    seen = set(taken)
    out = []
    for title in titles:
        candidate, n = title, 1
        while candidate in seen:
            n += 1
            candidate = f"{title} ({n})"
        seen.add(candidate)
        out.append(candidate)
    return out


def build_sources(reads: Sequence[Read], keep: Sequence[Source] = ()) -> list[Source]:
    """Sources for the bodies read, in order, within the limits left by `keep` (the sources a
    person added, which intake never replaces): 20 sources and 60,000 characters in all."""
    reads = [r for r in reads if r.text.strip()][: max(MAX_SOURCES - len(keep), 0)]
    titles = unique_titles([r.title for r in reads], [s.title for s in keep])
    limits = allocate([len(r.text) for r in reads], MAX_SOURCES_CHARS - sum(len(s.text) for s in keep))
    sources = []
    for read, title, limit in zip(reads, titles, limits, strict=True):
        source = to_source(Read(title, read.reader, read.snapshot, read.text, read.page), limit)
        if source is not None:
            sources.append(source)
    return sources
