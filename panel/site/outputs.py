"""Every output of the site, each made from the manifest and the one record it needs.

A comparison has its page, its JSON and its feed content (kept beside the site); a tool its page
and JSON; a category its page, JSON and feed; the site its index, feeds, api/index.json,
stylesheet and sitemap. Each is put with the digest of what it is made from (`Staging.put`),
so an unchanged one is never made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

from panel.errors import InputError
from panel.records import Comparison
from panel.site import api, feeds, jsonld, layout, pages, sitemap, views
from panel.site.catalog import Canon, Catalog, CategoryRow
from panel.site.collect import Record, RecordRow, panel_of, read
from panel.site.staging import Lazy, Made, Staging

LATEST = 30  # comparisons on the index page and in api/index.json


@dataclasses.dataclass(frozen=True)
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


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


class Outputs:
    def __init__(self, catalog: Catalog, staging: Staging, settings: Settings, outputs: Path):
        self.catalog = catalog
        self.staging = staging
        self.settings = settings
        self.outputs = outputs

    def load(self, slug: str) -> Record:
        return read(slug, self.outputs / "published" / f"{slug}.json")[0]

    def comparison(self, slug: str) -> Comparison:
        record = self.load(slug)
        if not isinstance(record, Comparison):
            raise InputError("changed from a comparison to a panel during the build", where=slug)
        return record

    def canon_of(self, row: RecordRow) -> dict[str, Canon]:
        return {t.slug: c for t in row.tools if (c := self.catalog.canon(t.slug)) is not None}

    # -- comparisons --------------------------------------------------------------------------

    def comparison_files(self, row: RecordRow) -> None:
        canon = self.canon_of(row)
        current = [(c.record_slug, c.tool.panel_digest, c.record_published) for c in canon.values()]
        inputs = _key(self.settings.key, row.digest, current)
        record = Lazy(partial(self.comparison, row.slug))
        self.staging.put(layout.comparison_page(row.slug), inputs, partial(self._comparison, row, record))
        self.staging.put(layout.fragment(row.slug), inputs, partial(self._fragment, row, record))
        self.staging.put(layout.api_comparison(row.slug), inputs, partial(self._comparison_doc, row, record))

    def drop_comparison(self, slug: str) -> None:
        for path in (layout.comparison_page(slug), layout.fragment(slug), layout.api_comparison(slug)):
            self.staging.drop(path)

    def _view(self, record: Comparison, row: RecordRow, root: str) -> views.ComparisonView:
        site = self.settings.site(root)
        return views.comparison_view(record, row, self.canon_of(row), self.settings.personas, site)

    def _comparison(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        s, rec = self.settings, record.get()
        page = layout.comparison_page(row.slug)
        view = self._view(rec, row, layout.root_of(page))
        apps = [
            (p, s.base_url + layout.tool_page(t.slug), t.votes)
            for p, t in zip(rec.panels, row.tools, strict=True)
        ]
        publisher = s.publisher(row.published_by, row.published_at)
        data = jsonld.comparison_page(rec.title, s.base_url + page, apps, publisher)
        html = pages.comparison(view, s.base_url + page, jsonld.script(data))
        return html.encode(), views.comparison_lastmod(row, self.canon_of(row))

    def _fragment(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        view = self._view(record.get(), row, self.settings.base_url)
        return pages.comparison_content(view).encode(), None

    def _comparison_doc(self, row: RecordRow, record: Lazy[Comparison]) -> Made:
        doc = api.comparison_doc(record.get(), row, self.settings.personas, self.settings.base_url)
        return api.dump(doc), None

    # -- tools --------------------------------------------------------------------------------

    def tool_files(self, slug: str) -> None:
        """The tool's page and JSON; dropped when no published record holds the tool any more."""
        canon = self.catalog.canon(slug)
        if canon is None:
            self.staging.drop(layout.tool_page(slug))
            self.staging.drop(layout.api_tool(slug))
            return
        inputs = _key(self.settings.key, self.catalog.tool_inputs(slug))
        state = Lazy(partial(self._tool_state, canon))
        self.staging.put(layout.tool_page(slug), inputs, partial(self._tool, canon, state))
        self.staging.put(layout.api_tool(slug), inputs, partial(self._tool_doc, canon, state))

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

    # -- categories ---------------------------------------------------------------------------

    def category_files(self, slug: str, row: CategoryRow | None) -> None:
        """The category's page, JSON and feed; dropped when nothing is in it any more."""
        paths = (layout.category_page(slug), layout.api_category(slug), layout.category_feed(slug))
        if row is None:
            for path in paths:
                self.staging.drop(path)
            return
        inputs = _key(self.settings.key, self.catalog.category_inputs(slug))
        state = Lazy(partial(self._category_state, slug))
        self.staging.put(paths[0], inputs, partial(self._category, row, state))
        self.staging.put(paths[1], inputs, partial(self._category_doc, row, state))
        latest = self.catalog.latest(feeds.FEED_ENTRIES, slug)
        # The feed carries its comparisons' content, which also changes with their tools' panels.
        content = [self.catalog.output(layout.fragment(r.slug)) for r in latest]
        self.staging.put(paths[2], _key(inputs, content), partial(self._category_feed, row, latest))

    def _category_state(self, slug: str) -> tuple[list[Canon], list[RecordRow]]:
        """The category's tools and comparisons, newest first."""
        return list(self.catalog.tools_in(slug)), list(self.catalog.comparisons_in(slug))

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

    def _category_doc(self, row: CategoryRow, state: Lazy[tuple[list[Canon], list[RecordRow]]]) -> Made:
        tools, comparisons = state.get()
        return api.dump(api.category_doc(row, tools, comparisons, self.settings.base_url)), None

    def _category_feed(self, row: CategoryRow, latest: list[RecordRow]) -> Made:
        s = self.settings
        info = feeds.Feed(
            title=f"{s.name}: {row.name}",
            subtitle=f"Panel verdicts in {row.name}, newest first.",
            home=s.base_url + layout.category_page(row.slug),
            url=s.base_url + layout.category_feed(row.slug),
            author=s.name,
            updated=row.changed_at,
        )
        return feeds.atom(info, [self.entry(r) for r in latest]), None

    def entry(self, row: RecordRow) -> feeds.Entry:
        """A comparison as a feed entry: its full content, every link absolute (the content
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

    # -- the files made every time ------------------------------------------------------------

    def site_files(self, categories: list[CategoryRow]) -> None:
        s = self.settings
        latest = self.catalog.latest(LATEST)
        changed = max(c.changed_at for c in categories)
        comparisons, tools = self.catalog.count("comparison"), self.catalog.tool_count()
        self.staging.put(layout.CSS, _key(s.key), lambda: (pages.stylesheet(), None))
        index = views.IndexView(
            site=s.site(""),
            latest=[views.comparison_item(r, "") for r in latest],
            categories=[views.category_item(c, "") for c in categories],
            comparisons=comparisons,
            tools=tools,
            changed=views.When.of(changed),
        )
        website = jsonld.script(jsonld.website(s.name, s.base_url))
        self.staging.put(
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
        self.staging.put(layout.API_INDEX, None, lambda: (api.dump(doc), None))
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
        self.staging.put(layout.ATOM, None, lambda: (feeds.atom(atom, entries), None))
        self.staging.put(layout.JSON_FEED, None, lambda: (feeds.json_feed(json_feed, entries), None))

    def sitemaps(self) -> None:
        """Last of all: it lists every page, with the last change each shows. One sitemap holds
        at most 50,000 addresses; past that, sitemap.xml is their index."""
        total = self.catalog.page_count()
        numbered = [] if total <= sitemap.MAX_URLS else range(0, total, sitemap.MAX_URLS)
        paths = [f"sitemaps/{n}.xml" for n in range(1, len(numbered) + 1)]
        for stale in self.catalog.output_paths("sitemaps/"):
            if stale not in paths:
                self.staging.drop(stale)
        if not paths:
            self.staging.put(layout.SITEMAP, None, partial(self._urlset, 0))
            return
        listed = []
        for path, offset in zip(paths, numbered, strict=True):
            self.staging.put(path, None, partial(self._urlset, offset))
            listed.append((self.settings.base_url + path, self._newest(offset)))
        self.staging.put(layout.SITEMAP, None, lambda: (sitemap.sitemap_index(listed), None))

    def _pages(self, offset: int) -> Iterator[tuple[str, datetime]]:
        base = self.settings.base_url
        for path, at in self.catalog.pages(offset, sitemap.MAX_URLS):
            yield (base if path == layout.INDEX else base + path), at

    def _urlset(self, offset: int) -> Made:
        return sitemap.urlset(self._pages(offset)), None

    def _newest(self, offset: int) -> datetime:
        return max(at for _, at in self._pages(offset))
