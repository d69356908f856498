"""`panel site build`: the whole site from outputs/published/, rebuilding only what changed.

Each output file is built from inputs with a digest: a comparison page from its record and its
tools' current panels, a tool page from every record the tool is in, a category page from its
comparisons and its tools' current panels; all of them also from the site's settings and code
(`Settings.key`). When an output's input digest is the one the previous build recorded, the new
build links the old file instead of rendering it again. The index, the feeds, the sitemap and
api/index.json are rendered every time (cheap), and linked when their bytes did not change.
Records are read one at a time and the indexes come from the manifest (`catalog`), so memory
does not grow with the site. The new build is swapped in whole (`releases`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from panel.errors import InputError
from panel.records import Comparison
from panel.site import api, feeds, jsonld, layout, pages, sitemap, views
from panel.site.catalog import Canon, Catalog, CategoryRow
from panel.site.collect import (
    PublishedFile,
    Record,
    RecordRow,
    file_digest,
    panel_of,
    published_files,
    read,
    summarize,
)
from panel.site.releases import Release, Releases, write_fresh

DEFAULT_NAME = "Panel reviews"
LATEST = 30  # comparisons on the index page and in api/index.json
PROGRESS_EVERY = 500
Progress = Callable[[str, int, int], None]  # (stage, done, total)
Made = tuple[bytes, datetime | None]  # an output's bytes, and (pages) the last change it shows
T = TypeVar("T")


@dataclass(frozen=True)
class SiteOptions:
    outputs: Path
    out: Path
    base_url: str | None = None  # None: the last build's, else layout.DEFAULT_BASE_URL
    name: str | None = None  # None: the last build's, else DEFAULT_NAME
    personas: dict[str, str] = field(default_factory=dict)  # persona id -> display name
    wait: bool = True


@dataclass(frozen=True)
class Settings:
    """What every page depends on besides its records."""

    base_url: str
    name: str
    personas: dict[str, str]

    @property
    def key(self) -> str:
        text = json.dumps([pages.code_digest(), self.base_url, self.name, sorted(self.personas.items())])
        return hashlib.sha256(text.encode()).hexdigest()

    def site(self, root: str) -> views.Site:
        return views.Site(self.name, root)

    def publisher(self, published_by: str, published: datetime) -> jsonld.Publisher:
        return jsonld.Publisher(self.name, self.base_url, published_by, published)


@dataclass
class BuildReport:
    out: Path
    base_url: str = ""
    base_url_given: bool = False
    records: int = 0
    comparisons: int = 0
    tools: int = 0
    categories: int = 0
    files: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


class Lazy(Generic[T]):
    """A value made on first use and shared by the outputs built from it (a page and its JSON)."""

    def __init__(self, make: Callable[[], T]):
        self._make: Callable[[], T] | None = make
        self._value: T | None = None

    def get(self) -> T:
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value  # type: ignore[return-value]


class Staging:
    """The files of one build: each linked from the previous build when unchanged, else written
    fresh, and recorded in the new manifest."""

    def __init__(self, catalog: Catalog, previous: Release | None, release: Release):
        self.catalog = catalog
        self.previous = previous
        self.release = release
        self.folders: set[Path] = {release.site}
        self.written: list[str] = []
        self.files = 0
        catalog.start_plan()

    def _target(self, path: str) -> Path:
        target = self.release.site / path
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        return target

    def link(self, path: str) -> bool:
        """The previous build's file at `path`, linked into this one; False if it has none."""
        if self.previous is None:
            return False
        try:
            os.link(self.previous.site / path, self._target(path))
        except FileNotFoundError:
            return False
        self.files += layout.served(path)
        return True

    def write(self, path: str, data: bytes) -> None:
        write_fresh(self._target(path), data)
        if layout.served(path):
            self.written.append(path)
            self.files += 1

    def emit(self, path: str, inputs: str | None, make: Callable[[], Made]) -> None:
        """Output `path`, built from inputs with digest `inputs` (None: render it every time)."""
        self.catalog.plan(path)
        old = self.catalog.output(path)
        if inputs is not None and old is not None and old[0] == inputs and self.link(path):
            return
        data, lastmod = make()
        sha = hashlib.sha256(data).hexdigest()
        if not (old is not None and old[1] == sha and self.link(path)):
            self.write(path, data)
        self.catalog.set_output(path, inputs or "", sha, lastmod)

    def carry_all(self) -> None:
        """Every file of the previous build, unchanged (a command that only adds files)."""
        self.catalog.plan()
        for path in self.catalog.output_paths():
            if not self.link(path):
                raise InputError(f"{path} is missing from the current build", where=self.release.site)

    def finish(self) -> list[str]:
        """Forget the outputs this build did not make (their records are gone), and carry the
        files kept across builds (the weekly digests). Returns the outputs gone."""
        gone = [p for p in self.catalog.forget_unplanned() if layout.served(p)]
        for path in self.catalog.kept():
            if not (self.release.site / path).exists():  # not written anew by this command
                self.link(path)
        return gone


class Builder:
    """The stages of one build, over one manifest."""

    def __init__(
        self, catalog: Catalog, staging: Staging, settings: Settings, outputs: Path, progress: Progress
    ):
        self.catalog = catalog
        self.staging = staging
        self.settings = settings
        self.outputs = outputs
        self.progress = progress
        self.warnings: list[str] = []
        self.canon: dict[str, Canon] = {}  # tool slug -> its current panel (index_tools)

    # -- records ------------------------------------------------------------------------------

    def sync_records(self) -> int:
        """Bring the manifest's records in step with outputs/published/; returns how many there are."""
        known = self.catalog.stats()
        files = list(published_files(self.outputs))
        for done, file in enumerate(files, 1):
            if known.pop(file.slug, None) != file.stat:
                self._read(file)
            if done % PROGRESS_EVERY == 0:
                self.progress("reading records", done, len(files))
        for slug in known:  # deleted or unpublished
            self.catalog.drop(slug)
        return len(files)

    def _read(self, file: PublishedFile) -> None:
        digest = file_digest(file.path)
        if self.catalog.digest_of(file.slug) == digest:
            self.catalog.restat(file.slug, file.stat)
            return
        record, hand_edited = read(file.slug, file.path)
        if hand_edited:
            self.warnings.append(f"{file.path}: edited by hand after it was published; built as it is")
        self.catalog.put(summarize(file, record, digest, hand_edited), file.stat)

    def load(self, slug: str) -> Record:
        return read(slug, self.outputs / "published" / f"{slug}.json")[0]

    def comparison(self, slug: str) -> Comparison:
        record = self.load(slug)
        if not isinstance(record, Comparison):
            raise InputError("changed from a comparison to a panel during the build", where=slug)
        return record

    # -- comparison pages ---------------------------------------------------------------------

    def index_tools(self) -> None:
        """Every tool's current panel, once per build: small rows, one per tool."""
        self.catalog.index_tools()
        self.canon = {c.tool.slug: c for c in self.catalog.tools()}

    def canon_of(self, row: RecordRow) -> dict[str, Canon]:
        return {t.slug: self.canon[t.slug] for t in row.tools if t.slug in self.canon}

    def comparison_view(self, record: Comparison, row: RecordRow, root: str) -> views.ComparisonView:
        site = self.settings.site(root)
        return views.comparison_view(record, row, self.canon_of(row), self.settings.personas, site)

    def comparison_pages(self, total: int) -> None:
        for done, row in enumerate(self.catalog.comparisons(), 1):
            canon = self.canon_of(row)
            current = [(c.record_slug, c.tool.panel_digest, c.record_published) for c in canon.values()]
            inputs = _key(self.settings.key, row.digest, current)
            record = Lazy(partial(self.comparison, row.slug))
            self.staging.emit(
                layout.comparison_page(row.slug), inputs, partial(self._comparison, row, record)
            )
            self.staging.emit(layout.fragment(row.slug), inputs, partial(self._fragment, row, record))
            self.staging.emit(
                layout.api_comparison(row.slug), inputs, partial(self._comparison_doc, row, record)
            )
            if done % PROGRESS_EVERY == 0:
                self.progress("comparison pages", done, total)

    def _fragment(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        view = self.comparison_view(record.get(), row, self.settings.base_url)
        return pages.comparison_content(view).encode(), None

    def _comparison_doc(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        doc = api.comparison_doc(record.get(), row, self.settings.personas, self.settings.base_url)
        return api.dump(doc), None

    def _comparison(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        s, rec = self.settings, record.get()
        page = layout.comparison_page(row.slug)
        view = self.comparison_view(rec, row, layout.root_of(page))
        apps = [
            (p, s.base_url + layout.tool_page(t.slug), t.votes)
            for p, t in zip(rec.panels, row.tools, strict=True)
        ]
        data = jsonld.comparison_page(
            rec.title, s.base_url + page, apps, s.publisher(row.published_by, row.published_at)
        )
        html = pages.comparison(view, s.base_url + page, jsonld.script(data))
        return html.encode(), views.comparison_lastmod(row, self.canon_of(row))

    # -- tool pages ---------------------------------------------------------------------------

    def tool_pages(self, total: int) -> None:
        for done, (slug, members) in enumerate(self.catalog.tool_inputs(), 1):
            canon = self.canon.get(slug)
            if canon is None:
                continue
            inputs = _key(self.settings.key, members)
            state = Lazy(partial(self._tool_state, canon))
            self.staging.emit(layout.tool_page(slug), inputs, partial(self._tool, canon, state))
            self.staging.emit(layout.api_tool(slug), inputs, partial(self._tool_doc, canon, state))
            if done % PROGRESS_EVERY == 0:
                self.progress("tool pages", done, total)

    def _tool_state(self, canon: Canon) -> tuple[Record, list[RecordRow]]:
        """The record that published the tool's current panel, and every record it is in."""
        return self.load(canon.record_slug), self.catalog.records_of_tool(canon.tool.slug)

    def _tool(self, canon: Canon, state: Lazy[tuple[Record, list[RecordRow]]]) -> Made:
        s = self.settings
        record, rows = state.get()
        page = layout.tool_page(canon.tool.slug)
        site = s.site(layout.root_of(page))
        view = views.tool_view(record, canon.record_slug, canon.tool.slug, rows, s.personas, site)
        data = jsonld.tool_page(
            panel_of(record, canon.tool.slug),
            s.base_url + page,
            s.publisher(record.published_by or "", canon.record_published),
            views.latest_votes(rows, canon.tool.slug),
        )
        html = pages.tool(view, s.base_url + page, jsonld.script(data))
        return html.encode(), max(r.changed_at for r in rows)

    def _tool_doc(self, canon: Canon, state: Lazy[tuple[Record, list[RecordRow]]]) -> Made:
        record, rows = state.get()
        votes = views.latest_votes(rows, canon.tool.slug)
        doc = api.tool_doc(record, canon, rows, votes, self.settings.personas, self.settings.base_url)
        return api.dump(doc), None

    # -- category pages -----------------------------------------------------------------------

    def category_pages(self, categories: dict[str, CategoryRow]) -> None:
        for slug, members in self.catalog.category_inputs():
            inputs = _key(self.settings.key, members)
            row = categories[slug]
            state = Lazy(partial(self._category_state, slug))
            self.staging.emit(layout.category_page(slug), inputs, partial(self._category, row, state))
            self.staging.emit(layout.api_category(slug), inputs, partial(self._category_doc, row, state))
            self.staging.emit(layout.category_feed(slug), inputs, partial(self._category_feed, row))

    def _category_state(self, slug: str) -> tuple[list[Canon], list[RecordRow]]:
        """The category's tools and comparisons, newest first."""
        return list(self.catalog.tools_in(slug)), list(self.catalog.comparisons_in(slug))

    def _category_doc(self, row: CategoryRow, state: Lazy[tuple[list[Canon], list[RecordRow]]]) -> Made:
        tools, comparisons = state.get()
        return api.dump(api.category_doc(row, tools, comparisons, self.settings.base_url)), None

    def _category(self, row: CategoryRow, state: Lazy[tuple[list[Canon], list[RecordRow]]]) -> Made:
        s = self.settings
        tools, comparisons = state.get()
        page = layout.category_page(row.slug)
        root = layout.root_of(page)
        view = views.CategoryView(
            site=s.site(root),
            slug=row.slug,
            name=views.clean(row.name),
            tools=[views.tool_item(c, root) for c in tools],
            comparisons=[views.comparison_item(r, root) for r in comparisons],
            changed=views.When.of(row.changed_at),
            feed=root + layout.category_feed(row.slug),
        )
        items = [(r.title, s.base_url + layout.comparison_page(r.slug)) for r in comparisons]
        data = jsonld.collection_page(row.name, s.base_url + page, items)
        return pages.category(view, s.base_url + page, jsonld.script(data)).encode(), row.changed_at

    def _category_feed(self, row: CategoryRow) -> Made:
        s = self.settings
        info = feeds.Feed(
            title=f"{s.name}: {row.name}",
            subtitle=f"Panel verdicts in {row.name}, newest first.",
            home=s.base_url + layout.category_page(row.slug),
            url=s.base_url + layout.category_feed(row.slug),
            author=s.name,
            updated=row.changed_at,
        )
        entries = [self.entry(r) for r in self.catalog.latest(feeds.FEED_ENTRIES, row.slug)]
        return feeds.atom(info, entries), None

    def entry(self, row: RecordRow) -> feeds.Entry:
        """A comparison as a feed entry: its full content, every link absolute (the fragment
        built with its page)."""
        content = (self.staging.release.site / layout.fragment(row.slug)).read_text(encoding="utf-8")
        return feeds.Entry(
            title=views.clean(row.title),
            url=self.settings.base_url + layout.comparison_page(row.slug),
            summary=views.clean(f"{row.label} {row.reason}"),
            content=content,
            published=row.first_published,
            updated=row.published_at,
            categories=tuple(dict.fromkeys(views.clean(t.category) for t in row.tools)),
        )

    # -- the pages rendered every time --------------------------------------------------------

    def site_pages(self, categories: list[CategoryRow], tools: int) -> None:
        s = self.settings
        latest = self.catalog.latest(LATEST)
        changed = max(c.changed_at for c in categories)
        comparisons = self.catalog.count("comparison")
        self.staging.emit(layout.CSS, _key(s.key), lambda: (pages.stylesheet(), None))
        index = views.IndexView(
            site=s.site(""),
            latest=[views.comparison_item(r, "") for r in latest],
            categories=[views.category_item(c, "") for c in categories],
            comparisons=comparisons,
            tools=tools,
            changed=views.When.of(changed),
        )
        website = jsonld.script(jsonld.website(s.name, s.base_url))
        self.staging.emit(
            layout.INDEX, None, lambda: (pages.index(index, s.base_url, website).encode(), changed)
        )
        doc = api.IndexDoc(
            name=views.clean(s.name),
            url=s.base_url,
            updated_at=changed,
            comparisons=comparisons,
            tools=tools,
            feeds=api.Feeds(atom=s.base_url + layout.ATOM, json_feed=s.base_url + layout.JSON_FEED),
            categories=[api.category_item(c, s.base_url) for c in categories],
            latest=[api.comparison_item(r, s.base_url) for r in latest],
        )
        self.staging.emit(layout.API_INDEX, None, lambda: (api.dump(doc), None))
        entries = [self.entry(r) for r in latest[: feeds.FEED_ENTRIES]]
        atom = feeds.Feed(
            title=s.name,
            subtitle="Every comparison, newest first: the panel's verdict in full.",
            home=s.base_url,
            url=s.base_url + layout.ATOM,
            author=s.name,
            updated=changed,
        )
        json_feed = dataclasses.replace(atom, url=s.base_url + layout.JSON_FEED)
        self.staging.emit(layout.ATOM, None, lambda: (feeds.atom(atom, entries), None))
        self.staging.emit(layout.JSON_FEED, None, lambda: (feeds.json_feed(json_feed, entries), None))

    def sitemaps(self) -> None:
        """Last of all: it lists every page this build made, with the last change each shows.
        One sitemap holds at most 50,000 addresses; past that, sitemap.xml is their index."""
        total = self.catalog.planned_page_count()
        if total <= sitemap.MAX_URLS:
            self.staging.emit(layout.SITEMAP, None, partial(self._urlset, 0))
            return
        listed = []
        for number, offset in enumerate(range(0, total, sitemap.MAX_URLS), 1):
            path = f"sitemaps/{number}.xml"
            self.staging.emit(path, None, partial(self._urlset, offset))
            listed.append((self.settings.base_url + path, self._newest(offset)))
        self.staging.emit(layout.SITEMAP, None, lambda: (sitemap.sitemap_index(listed), None))

    def _pages(self, offset: int) -> list[tuple[str, datetime]]:
        base = self.settings.base_url
        rows = self.catalog.planned_pages(offset, sitemap.MAX_URLS)
        return [(base if p == layout.INDEX else base + p, at) for p, at in rows]

    def _urlset(self, offset: int) -> Made:
        return sitemap.urlset(self._pages(offset)), None

    def _newest(self, offset: int) -> datetime:
        return max(at for _, at in self._pages(offset))


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


def build(
    options: SiteOptions, progress: Progress | None = None, waiting: Callable[[str], None] | None = None
) -> BuildReport:
    """Build the site at `options.out` from `options.outputs`/published, incrementally."""
    started = time.perf_counter()
    tell = progress or (lambda stage, done, total: None)
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
        previous = releases.current()
        release = releases.begin()
        try:
            _build_into(release, previous, options, report, tell)
            releases.commit(release)
        except BaseException:
            releases.discard(release)
            raise
    report.seconds = time.perf_counter() - started
    return report


def _build_into(
    release: Release, previous: Release | None, options: SiteOptions, report: BuildReport, tell: Progress
) -> None:
    if previous is not None and previous.manifest.exists():
        shutil.copyfile(previous.manifest, release.manifest)
    catalog = Catalog(release.manifest)
    try:
        with catalog.transaction():
            settings, report.base_url_given = settings_for(options, catalog)
            report.base_url = settings.base_url
            staging = Staging(catalog, previous, release)
            builder = Builder(catalog, staging, settings, options.outputs, tell)
            report.records = builder.sync_records()
            if report.records == 0:
                raise InputError(
                    "nothing is published here yet",
                    where=options.outputs / "published",
                    hint="publish a record first: `panel publish RECORD`",
                )
            builder.index_tools()
            report.comparisons = catalog.count("comparison")
            report.tools = len(builder.canon)
            categories = catalog.categories()
            report.categories = len(categories)
            builder.comparison_pages(report.comparisons)
            builder.tool_pages(report.tools)
            builder.category_pages({c.slug: c for c in categories})
            builder.site_pages(categories, report.tools)
            builder.sitemaps()
            report.removed = staging.finish()
            report.written, report.files = staging.written, staging.files
            report.warnings = builder.warnings
    finally:
        catalog.close()
