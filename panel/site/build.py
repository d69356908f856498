"""`panel site build`: the whole site from outputs/published/, rebuilding only what changed.

The manifest (`catalog`) of the live build says what every record said and what every output
was made from. A build reads only the published files whose stat changed, and from the records
that really changed works out what they touch:

- a comparison: its page, JSON and feed content;
- every tool it holds (before and after): the tool's page and JSON;
- a tool whose current panel changed: every comparison it is in (the page notes the newer
  panel) and its category, before and after;
- every category of those records and tools: the category's page, JSON and feed.

Each of those is made again only if the digest of its inputs changed (`Staging.put`). The index,
the feeds, the sitemap and api/index.json are made every time (cheap) and written only if their
bytes changed. When the site's settings or code change, everything is made again. Records are
read one at a time and every list comes from the manifest, so memory does not grow with the site.
The build happens in a slot nobody serves and is swapped in whole (`releases`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from panel.errors import InputError
from panel.site import layout
from panel.site.catalog import SCHEMA_VERSION, Catalog
from panel.site.collect import PublishedFile, file_digest, published_file, published_slugs, read, summarize
from panel.site.outputs import Outputs, Settings
from panel.site.releases import Release, Releases, copy_slot
from panel.site.staging import Staging, catch_up

DEFAULT_NAME = "Panel reviews"
PROGRESS_EVERY = 500
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class SiteOptions:
    outputs: Path
    out: Path
    base_url: str | None = None  # None: the last build's, else layout.DEFAULT_BASE_URL
    name: str | None = None  # None: the last build's, else DEFAULT_NAME
    personas: dict[str, str] = field(default_factory=dict)  # persona id -> display name
    wait: bool = True


@dataclass
class BuildReport:
    out: Path
    base_url: str = ""
    base_url_given: bool = False
    full: bool = True  # everything made again (first build, new settings or code)
    records: int = 0
    files: int = 0  # in the site
    comparisons: int = 0
    tools: int = 0
    categories: int = 0
    written: list[str] = field(default_factory=list)  # the site's files written anew (the first 1,000)
    written_count: int = 0
    removed: list[str] = field(default_factory=list)  # the site's files removed
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Delta:
    """What the records that changed since the live build touch."""

    comparisons: set[str] = field(default_factory=set)  # to make again
    removed: set[str] = field(default_factory=set)  # comparisons no longer published
    tools: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)

    def record(self, slug: str, kind: str | None, tools: set[str], categories: set[str], gone: bool) -> None:
        if kind == "comparison":
            (self.removed if gone else self.comparisons).add(slug)
        self.tools |= tools
        self.categories |= categories


def settings_for(options: SiteOptions, catalog: Catalog) -> tuple[Settings, bool]:
    """The base URL and name: as given, else the last build's, else the defaults. Returns the
    settings and whether a base URL was ever chosen (given now or before)."""
    given = options.base_url if options.base_url is not None else catalog.meta("base_url")
    base = layout.base_url(given) if given else layout.DEFAULT_BASE_URL
    name = " ".join(
        (options.name if options.name is not None else catalog.meta("name") or DEFAULT_NAME).split()
    )
    if not name:
        raise InputError(
            "the site's name is empty", where="--name", hint="give it a name, e.g. --name 'Tool reviews'"
        )
    catalog.set_meta("name", name)
    if given:
        catalog.set_meta("base_url", base)
    return Settings(base, name, dict(options.personas)), bool(given)


class Builder:
    def __init__(self, catalog: Catalog, outputs: Outputs, progress: Progress):
        self.catalog = catalog
        self.outputs = outputs
        self.progress = progress
        self.warnings: list[str] = []

    def sync_records(self, root: Path) -> tuple[int, Delta]:
        """Bring the manifest's records in step with outputs/published/: how many there are,
        and what the ones that changed touch."""
        delta = Delta()
        known = self.catalog.stats()
        slugs = published_slugs(root)
        count = 0
        for done, slug in enumerate(slugs, 1):
            file = published_file(root, slug)
            if file is None:
                continue
            count += 1
            if known.pop(slug, None) != file.stat:
                self._read(file, delta)
            if done % PROGRESS_EVERY == 0:
                self.progress("reading records", done, len(slugs))
        for slug in known:  # deleted or unpublished
            kind, tools, categories = self.catalog.tools_of(slug)
            self.catalog.drop(slug)
            delta.record(slug, kind, tools, categories, gone=True)
        return count, delta

    def _read(self, file: PublishedFile, delta: Delta) -> None:
        digest = file_digest(file.path)
        if self.catalog.digest_of(file.slug) == digest:
            self.catalog.restat(file.slug, file.stat)  # the same bytes (copied, touched)
            return
        record, hand_edited = read(file.slug, file.path)
        if hand_edited:
            self.warnings.append(f"{file.path}: edited by hand after it was published; built as it is")
        before = self.catalog.tools_of(file.slug)  # what it touched (nothing if it is new)...
        self.catalog.put(summarize(file, record, digest, hand_edited), file.stat)
        after = self.catalog.tools_of(file.slug)  # ...and what it touches now
        for kind, tools, categories in (before, after):
            delta.record(file.slug, kind, tools, categories, gone=False)

    def everything(self) -> None:
        """Make every output (a first build, or new settings or code)."""
        self.catalog.refresh_canon()
        total = self.catalog.count("comparison")
        for done, row in enumerate(self.catalog.comparisons(), 1):
            self.outputs.comparison_files(row)
            if done % PROGRESS_EVERY == 0:
                self.progress("comparison pages", done, total)
        total = self.catalog.tool_count()
        for done, slug in enumerate(self.catalog.tool_slugs(), 1):
            self.outputs.tool_files(slug)
            if done % PROGRESS_EVERY == 0:
                self.progress("tool pages", done, total)
        for category in self.catalog.categories():
            self.outputs.category_files(category.slug, category)

    def changed(self, delta: Delta) -> None:
        """Make what the changed records touch, and drop what is gone."""
        moved = self.catalog.refresh_canon(delta.tools)  # tools whose current panel changed
        for before, after in moved.values():
            delta.categories |= {c for c in (before, after) if c is not None}
        delta.comparisons |= self.catalog.comparisons_with(set(moved)) if moved else set()
        for slug in delta.removed - delta.comparisons:
            self.outputs.drop_comparison(slug)
        for row in self.catalog.comparisons_by_slug(delta.comparisons):
            self.outputs.comparison_files(row)
            delta.categories |= set(row.categories)  # their feeds carry the comparison's content
        for slug in sorted(delta.tools):
            self.outputs.tool_files(slug)
        categories = {c.slug: c for c in self.catalog.categories()}
        for slug in sorted(delta.categories):
            self.outputs.category_files(slug, categories.get(slug))


def build(
    options: SiteOptions, progress: Progress | None = None, waiting: Callable[[str], None] | None = None
) -> BuildReport:
    """Build the site at `options.out` from `options.outputs`/published, incrementally."""
    started = time.perf_counter()
    folder = options.outputs / "published"
    if not folder.is_dir():
        raise InputError(
            "nothing is published here yet",
            where=folder,
            hint="publish a record first: `panel publish RECORD`",
        )
    releases = Releases(options.out)
    report = BuildReport(options.out)
    with releases.lock(options.wait, waiting):
        live, slot, whole = releases.begin()
        written = _build_into(slot, live if whole else None, options, report, progress or (lambda *_: None))
        releases.commit(slot, None if report.full else written)
        if report.full:
            releases.prepare_other()
    report.seconds = time.perf_counter() - started
    return report


def open_slot(slot: Release, live: Release | None) -> tuple[Catalog, list[Path]]:
    """The slot's manifest, the slot first caught up with the live build when it holds an
    earlier one of its own (`live`); a fresh slot is already a copy of the live build. Also the
    files the catching up linked in."""
    linked: list[Path] = []
    if live is not None:
        if Catalog.version_of(slot.manifest) == SCHEMA_VERSION:
            earlier = Catalog(slot.manifest)
            try:
                linked = catch_up(earlier, live, slot)
            finally:
                earlier.close()
            shutil.copyfile(live.manifest, slot.manifest)
        else:  # a manifest of another version cannot say what differs: copy the live slot
            for name in ("site", "fragments"):
                shutil.rmtree(slot.folder / name, ignore_errors=True)
            copy_slot(live, slot)
    return Catalog(slot.manifest), linked


def _build_into(
    slot: Release, live: Release | None, options: SiteOptions, report: BuildReport, tell: Progress
) -> list[Path]:
    """Build in `slot`; returns the files written (or linked) there, to flush before the swap."""
    catalog, linked = open_slot(slot, live)
    try:
        with catalog.transaction():
            settings, report.base_url_given = settings_for(options, catalog)
            report.base_url = settings.base_url
            report.full = catalog.meta("key") != settings.key
            catalog.set_meta("key", settings.key)
            staging = Staging(catalog, slot, flush_each=not report.full)
            builder = Builder(catalog, Outputs(catalog, staging, settings, options.outputs), tell)
            report.records, delta = builder.sync_records(options.outputs)
            if report.records == 0:
                raise InputError(
                    "nothing is published here yet",
                    where=options.outputs / "published",
                    hint="publish a record first: `panel publish RECORD`",
                )
            if report.full:
                catalog.clear_outputs()
                builder.everything()
            else:
                builder.changed(delta)
            categories = catalog.categories()
            builder.outputs.site_files(categories)
            builder.outputs.sitemaps()
            if report.full:
                staging.sweep()
            report.comparisons, report.tools = catalog.count("comparison"), catalog.tool_count()
            report.files = catalog.file_count()
            report.categories = len(categories)
            report.written, report.written_count, report.removed = (
                staging.written,
                staging.written_count,
                staging.removed,
            )
            report.warnings = builder.warnings
    finally:
        catalog.close()
    return [*linked, *staging.files, slot.manifest]
