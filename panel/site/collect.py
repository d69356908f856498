"""The published records, read one at a time: what the site is built from.

`published_slugs` lists outputs/published/*.json (not revisions/), `published_file` stats one; `read` loads
one record; `summarize` keeps what the indexes need of it (titles, dates, each tool's share and
category), so a build never holds more than one record at a time. Verdicts, summaries and
decisions are read from the records' own computed fields, never worked out again here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from panel.core.loading import read_text
from panel.editorial.render import decision_view
from panel.errors import InputError
from panel.records import Change, Comparison, ToolPanel, panels_of
from panel.records.store import MAX_RECORD_BYTES, load_any_record, published_slug, slugify
from panel.site import layout

Record = ToolPanel | Comparison


@dataclass(frozen=True)
class FileStat:
    """What tells a changed file from an unchanged one without reading it."""

    mtime_ns: int
    size: int
    ino: int


@dataclass(frozen=True)
class PublishedFile:
    slug: str  # the file's stem: published_slug of the record it holds
    path: Path
    stat: FileStat


@dataclass(frozen=True)
class Votes:
    """Readers' votes for one tool in one record. `imported_at` is set only for votes that
    `panel votes import` (or the desk) wrote, with a history entry: real votes, not a number
    someone typed into the file."""

    ship: int
    skip: int
    imported_at: datetime | None


@dataclass(frozen=True)
class ToolRow:
    """One tool as one published record holds it."""

    slug: str
    name: str
    category: str
    category_slug: str
    tagline: str
    ship_pct: int | None
    verdict: str | None
    mean_score: float | None
    panel_digest: str  # the panel's content (tool, reviews, failures): what "its panel changed" means
    votes: Votes | None


@dataclass(frozen=True)
class RecordRow:
    """What the indexes, feeds and sitemap need of one published record."""

    slug: str
    kind: str
    digest: str  # of the file's bytes
    title: str
    revision: int
    published_at: datetime
    first_published: datetime
    changed_at: datetime  # the latest publication or edit: the record's real change date
    published_by: str
    outcome: str
    label: str
    reason: str
    hand_edited: bool
    tools: tuple[ToolRow, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """The category pages the record appears on, in order of its tools."""
        return tuple(dict.fromkeys(t.category_slug for t in self.tools))


def published_slugs(root: Path) -> list[str]:
    """The slug of every outputs/published/*.json (not revisions/), sorted. A file whose name is
    not a slug panel writes (a copy someone made by hand, say) is listed too: `read` decides."""
    folder = root / "published"
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return sorted(
            e.name[: -len(".json")]
            for e in entries
            if e.name.endswith(".json") and not e.name.startswith(".")
        )


def published_file(root: Path, slug: str) -> PublishedFile | None:
    """The published file of `slug` with its stat; None if it is gone or not a plain file."""
    path = root / "published" / f"{slug}.json"
    try:
        st = path.stat()
    except FileNotFoundError:
        return None  # removed while we looked
    return (
        PublishedFile(slug, path, FileStat(st.st_mtime_ns, st.st_size, st.st_ino)) if path.is_file() else None
    )


def file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(read_text(path, max_bytes=MAX_RECORD_BYTES).encode()).hexdigest()


def read(slug: str, path: Path) -> tuple[Record, bool]:
    """The record published as `slug`, and whether it was edited by hand since panel wrote it.
    InputError for a file that does not load, is not published, or sits under a name that is
    not its own."""
    loaded = load_any_record(path)
    record = loaded.record
    if record.status != "published" or record.published_at is None:
        raise InputError(
            "a draft in the published folder",
            where=path,
            hint="publish records with `panel publish`, which writes this folder",
        )
    if published_slug(record) != slug:
        raise InputError(
            f"holds {record.title if isinstance(record, Comparison) else record.tool.name!r}, "
            f"which is published as {published_slug(record)}.json",
            where=path,
            hint="rename the file or publish the record again",
        )
    return record, loaded.edited


def _panel_digest(panel: ToolPanel) -> str:
    content = panel.model_dump(mode="json", include={"tool", "reviews", "failures"})
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def imported_votes(record: Record, name: str) -> Votes | None:
    """The community votes a record holds for a tool, and when they were imported (None: no
    history entry wrote them, so they are not counted as real votes)."""
    if not isinstance(record, Comparison) or name not in record.community:
        return None
    votes = record.community[name]
    field = f"community.{name}"
    voted = [c.at for c in record.history if c.action == "voted" and field in c.fields]
    return Votes(votes.ship, votes.skip, max(voted) if voted else None)


def _tool_row(record: Record, panel: ToolPanel) -> ToolRow:
    tool, summary = panel.tool, panel.summary
    return ToolRow(
        slug=slugify(tool.name),
        name=tool.name,
        category=layout.category_name(tool.category),
        category_slug=layout.category_slug(tool.category),
        tagline=tool.tagline,
        ship_pct=summary.ship_pct,
        verdict=summary.verdict,
        mean_score=summary.mean_score,
        panel_digest=_panel_digest(panel),
        votes=imported_votes(record, tool.name),
    )


def panel_of(record: Record, tool_slug: str) -> ToolPanel:
    """The tool's panel in a record that holds it."""
    return next(p for p in panels_of(record) if slugify(p.tool.name) == tool_slug)


def tool_history(record: Record, name: str) -> list[tuple[Change, list[str]]]:
    """The record's history as it concerns one tool, each change with the fields it touched. A
    comparison's review fields are named "Tool: reviews...", its votes "community.Tool"; the
    tool's own name is taken off the front. Changes of the whole record (publication) stay."""
    lines = []
    prefix, votes = f"{name}: ", f"community.{name}"
    for change in record.history:
        fields = change.fields
        if isinstance(record, Comparison) and fields:
            fields = [f.removeprefix(prefix) for f in fields if f.startswith(prefix) or f == votes]
            if not fields:
                continue
        lines.append((change, fields))
    return lines


def change_dates(record: Record) -> tuple[datetime, datetime, datetime]:
    """(latest publication, first publication, latest change) from the record's own stamps."""
    published = record.published_at or record.updated_at
    stamps = [c.at for c in record.history if c.action == "published"]
    first = min(stamps) if stamps else published
    changed = max([published, *(c.at for c in record.history)])
    return _utc(published), _utc(first), _utc(changed)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def summarize(file: PublishedFile, record: Record, digest: str, hand_edited: bool) -> RecordRow:
    panels = panels_of(record)
    decision = decision_view(panels)
    published, first, changed = change_dates(record)
    return RecordRow(
        slug=file.slug,
        kind=record.kind,
        digest=digest,
        title=record.title if isinstance(record, Comparison) else record.tool.name,
        revision=record.revision,
        published_at=published,
        first_published=first,
        changed_at=changed,
        published_by=record.published_by or "",
        outcome=decision.outcome,
        label=decision.label,
        reason=decision.reason,
        hand_edited=hand_edited,
        tools=tuple(_tool_row(record, p) for p in panels),
    )
