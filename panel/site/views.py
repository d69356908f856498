"""What each page of the site shows, already worded, so the templates only lay it out.

The comparison and tool pages start from `render.build_page`, the published page's own view, and
add the site's links; every vendor and model string is cleaned here and escaped by the templates.
Every date is a record's own (publication, edit, vote, fetch), never the time of the build.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from panel.editorial.render import Page, build_page, clean
from panel.records import CHANGE_LABELS, Change, Comparison, Source, ToolPanel, checked_on, panels_of
from panel.records.store import slugify
from panel.site import layout
from panel.site.catalog import Canon, CategoryRow
from panel.site.collect import Record, RecordRow, ToolRow, Votes, change_dates, panel_of, tool_history


@dataclass(frozen=True)
class When:
    """A date as pages show it, with its machine-readable form for <time>."""

    iso: str
    text: str

    @classmethod
    def of(cls, at: datetime) -> When:
        return cls(at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{at.day} {at.strftime('%b %Y')}")


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class CategoryLink:
    text: str
    href: str
    feed: str


def category_link(name: str, slug: str, root: str) -> CategoryLink:
    return CategoryLink(clean(name), root + layout.category_page(slug), root + layout.category_feed(slug))


@dataclass(frozen=True)
class Site:
    """What every page shares: the site's name, and the root to link from (relative for pages,
    the base URL for feeds and e-mail)."""

    name: str
    root: str


@dataclass(frozen=True)
class ComparisonItem:
    """One comparison in a list: its title, decision and date."""

    title: str
    href: str
    label: str
    reason: str
    outcome: str
    published: When
    revision: int


def comparison_item(row: RecordRow, root: str) -> ComparisonItem:
    return ComparisonItem(
        title=clean(row.title),
        href=root + layout.comparison_page(row.slug),
        label=clean(row.label),
        reason=clean(row.reason),
        outcome=row.outcome,
        published=When.of(row.published_at),
        revision=row.revision,
    )


def _linked(page: Page, record: Record, root: str, link_tools: bool = True) -> Page:
    """The published page's view with each category (and, unless the page is the tool's own,
    each tool) linked to its page on the site."""
    tools = [
        dataclasses.replace(
            view,
            href=root + layout.tool_page(slugify(p.tool.name)) if link_tools else "",
            category=clean(layout.category_name(p.tool.category)),
            category_href=root + layout.category_page(layout.category_slug(p.tool.category)),
        )
        for view, p in zip(page.tools, panels_of(record), strict=True)
    ]
    return dataclasses.replace(page, tools=tools)


def sources_checked(panels: list[ToolPanel]) -> When | None:
    """'Sources checked on DATE' (records.checked_on over every panel's sources); None when no
    source was fetched."""
    checked = checked_on(s for p in panels for s in p.tool.sources)
    return When.of(checked) if checked else None


# ---------------------------------------------------------------------------------------------
# Comparison pages


@dataclass(frozen=True)
class Newer:
    """A tool reviewed again since this comparison was published."""

    tool: str
    href: str
    when: When


@dataclass(frozen=True)
class ComparisonView:
    site: Site
    slug: str
    page: Page
    categories: list[CategoryLink]
    published: When
    first_published: When
    revision: int
    checked: When | None
    newer: list[Newer]


def newer_panels(row: RecordRow, canon: dict[str, Canon]) -> list[tuple[ToolRow, Canon]]:
    """The tools of a comparison whose panel a later record published with different content:
    the comparison page says so, and changes when that happens."""
    found = []
    for tool in row.tools:
        current = canon.get(tool.slug)
        if (
            current is not None
            and current.record_slug != row.slug
            and current.tool.panel_digest != tool.panel_digest
            and current.record_published > row.published_at
        ):
            found.append((tool, current))
    return found


def comparison_view(
    record: Comparison, row: RecordRow, canon: dict[str, Canon], names: dict[str, str], site: Site
) -> ComparisonView:
    """`canon` maps each of its tools' slugs to the tool's current panel."""
    root = site.root
    newer = [
        Newer(clean(tool.name), root + layout.tool_page(tool.slug), When.of(current.record_published))
        for tool, current in newer_panels(row, canon)
    ]
    categories = {t.category_slug: t.category for t in row.tools}
    return ComparisonView(
        site=site,
        slug=row.slug,
        page=_linked(build_page(record, names), record, root),
        categories=[category_link(name, s, root) for s, name in categories.items()],
        published=When.of(row.published_at),
        first_published=When.of(row.first_published),
        revision=row.revision,
        checked=sources_checked(record.panels),
        newer=newer,
    )


def comparison_lastmod(row: RecordRow, canon: dict[str, Canon]) -> datetime:
    """The comparison page changes with its record, and when a tool's newer panel is noted on it."""
    return max([row.changed_at, *(current.record_changed for _, current in newer_panels(row, canon))])


# ---------------------------------------------------------------------------------------------
# Tool pages


@dataclass(frozen=True)
class SourceView:
    title: str
    url: str
    path: str
    fetched: When | None


@dataclass(frozen=True)
class ReceiptLine:
    """How one persona's review was made: enough to draw it again."""

    persona: str
    model: str
    profile: str
    engine: str
    persona_digest: str
    prompt_digest: str
    seed: str
    drawn: When
    edited: bool


@dataclass(frozen=True)
class ChangeLine:
    when: When
    by: str
    action: str
    fields: str


@dataclass(frozen=True)
class VotesView:
    ship: int
    skip: int
    imported: When | None
    line: str


@dataclass(frozen=True)
class ToolView:
    site: Site
    slug: str
    name: str
    page: Page
    category: CategoryLink
    comparisons: list[ComparisonItem]
    sources: list[SourceView]
    votes: VotesView | None
    receipt: list[ReceiptLine]
    changes: list[ChangeLine]
    record: Link  # the published record the panel comes from
    published: When
    checked: When | None


def latest_votes(rows: list[RecordRow], tool_slug: str) -> Votes | None:
    """The tool's community votes: the latest that `panel votes import` wrote, else those of the
    newest record that has any (`rows` are newest first). Only the first kind rates it in
    structured data (`jsonld.aggregate_rating`)."""
    found = [t.votes for r in rows for t in r.tools if t.slug == tool_slug and t.votes]
    imported = [v for v in found if v.imported_at]
    if imported:
        return max(imported, key=lambda v: v.imported_at or datetime.min)
    return found[0] if found else None


def _votes_view(votes: Votes | None) -> VotesView | None:
    if votes is None or votes.ship + votes.skip == 0:
        return None
    line = f"{votes.ship} ship / {votes.skip} skip"
    return VotesView(votes.ship, votes.skip, When.of(votes.imported_at) if votes.imported_at else None, line)


def _change_line(change: Change, fields: list[str]) -> ChangeLine:
    return ChangeLine(
        when=When.of(change.at),
        by=clean(change.by),
        action=CHANGE_LABELS.get(change.action, change.action),
        fields=clean(", ".join(fields)),
    )


def _receipt(panel: ToolPanel, names: dict[str, str]) -> list[ReceiptLine]:
    lines = []
    for review in panel.reviews:
        p = review.provenance
        lines.append(
            ReceiptLine(
                persona=clean(names.get(review.persona) or review.persona.capitalize()),
                model=clean(p.model),
                profile=clean(p.profile),
                engine=clean(p.engine),
                persona_digest=clean(p.persona_digest),
                prompt_digest=clean(p.prompt_digest),
                seed="engine's choice" if p.sampling.seed is None else str(p.sampling.seed),
                drawn=When.of(p.created_at),
                edited=review.edited,
            )
        )
    return lines


def tool_view(
    record: Record, record_slug: str, tool_slug: str, rows: list[RecordRow], names: dict[str, str], site: Site
) -> ToolView:
    """The page of the tool `tool_slug` from `record` (published as `record_slug`), the last to
    publish its panel; `rows` are every record the tool is in, newest first."""
    root = site.root
    panel = panel_of(record, tool_slug)
    tool = panel.tool
    page = _linked(build_page(panel, names), panel, root, link_tools=False)
    votes = _votes_view(latest_votes(rows, tool_slug))
    if votes is not None:
        page = dataclasses.replace(page, tools=[dataclasses.replace(page.tools[0], community=votes.line)])
    published, _, _ = change_dates(record)
    is_comparison = isinstance(record, Comparison)
    return ToolView(
        site=site,
        slug=tool_slug,
        name=clean(tool.name),
        page=page,
        category=category_link(
            layout.category_name(tool.category), layout.category_slug(tool.category), root
        ),
        comparisons=[comparison_item(r, root) for r in rows if r.kind == "comparison"],
        sources=[_source_view(s) for s in tool.sources],
        votes=votes,
        receipt=_receipt(panel, names),
        changes=[_change_line(c, fields) for c, fields in tool_history(record, tool.name)],
        record=Link(
            clean(record.title if isinstance(record, Comparison) else tool.name),
            root + layout.comparison_page(record_slug) if is_comparison else "",
        ),
        published=When.of(published),
        checked=sources_checked([panel]),
    )


def _source_view(source: Source) -> SourceView:
    fetched = source.fetched_at
    return SourceView(
        clean(source.title), clean(source.url), clean(source.path), When.of(fetched) if fetched else None
    )


# ---------------------------------------------------------------------------------------------
# Category and index pages


@dataclass(frozen=True)
class ToolItem:
    name: str
    href: str
    tagline: str
    ship_pct: str
    verdict: str
    published: When


def tool_item(canon: Canon, root: str) -> ToolItem:
    t = canon.tool
    return ToolItem(
        name=clean(t.name),
        href=root + layout.tool_page(t.slug),
        tagline=clean(t.tagline),
        ship_pct="—" if t.ship_pct is None else f"{t.ship_pct}% ship",
        verdict=(t.verdict or "").capitalize() or "—",
        published=When.of(canon.record_published),
    )


@dataclass(frozen=True)
class CategoryView:
    site: Site
    slug: str
    name: str
    tools: list[ToolItem]
    comparisons: list[ComparisonItem]
    changed: When
    feed: str


@dataclass(frozen=True)
class CategoryItem:
    name: str
    href: str
    tools: int
    comparisons: int
    feed: str


def category_item(row: CategoryRow, root: str) -> CategoryItem:
    return CategoryItem(
        clean(row.name), root + layout.category_page(row.slug), row.tools, row.comparisons,
        root + layout.category_feed(row.slug),
    )  # fmt: skip


@dataclass(frozen=True)
class IndexView:
    site: Site
    latest: list[ComparisonItem]
    categories: list[CategoryItem]
    comparisons: int
    tools: int
    changed: When | None
