"""The static JSON API: api/index.json, api/tools/<slug>.json, api/comparisons/<slug>.json and
api/categories/<slug>.json. One pydantic model per file type, the single source of its JSON
Schema (`panel schema site-tool`, ...); the records' own models (pricing, panel summary, decision)
are reused inside them. Every address is absolute; every date is a record's own.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from panel.editorial.render import clean
from panel.records import Comparison, Decision, PanelSummary, Pricing, ToolPanel
from panel.site import layout
from panel.site.catalog import Canon, CategoryRow
from panel.site.collect import RecordRow, ToolRow, Votes, panel_of, tool_history


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Link(_Doc):
    slug: str
    name: str
    url: str = Field(description="The page on the site.")
    api: str = Field(description="This item's own JSON document.")


class CommunityVotes(_Doc):
    ship: int
    skip: int
    imported_at: datetime | None = Field(
        description="When `panel votes import` wrote them; null for counts entered some other way."
    )


class PublicReview(_Doc):
    persona: str
    persona_name: str
    score: int
    verdict: str
    review: str
    edited: bool = Field(description="An editor changed the model's score, verdict or text.")


class _Tool(_Doc):
    """A tool and its panel: what a comparison shows of it, and the start of its own document."""

    slug: str
    name: str
    url: str
    api: str
    tagline: str
    description: str
    category: Link
    pricing: Pricing
    website: str
    summary: PanelSummary
    community: CommunityVotes | None
    reviews: list[PublicReview]


class ComparisonTool(_Tool):
    """One tool as a comparison shows it."""


class ComparisonItem(_Doc):
    """A comparison in a list."""

    slug: str
    title: str
    url: str
    api: str
    outcome: str
    decision: str
    published_at: datetime


class ComparisonDoc(_Doc):
    kind: Literal["site-comparison"] = "site-comparison"
    slug: str
    url: str
    title: str
    question: str
    decision: Decision
    categories: list[Link]
    revision: int
    first_published_at: datetime
    published_at: datetime
    tools: list[ComparisonTool]


class SourceDoc(_Doc):
    title: str
    url: str
    fetched_at: datetime | None


class ReceiptReview(_Doc):
    persona: str
    model: str
    profile: str
    engine: str
    persona_digest: str
    prompt_digest: str
    seed: int | None
    drawn_at: datetime


class ChangeDoc(_Doc):
    at: datetime
    by: str
    action: str
    fields: list[str]


class Receipt(_Doc):
    """How the tool's current panel was made: the record it comes from, each review's model,
    persona and prompt digests and seed, and who changed what and when."""

    record: str = Field(description="The published record the panel comes from (its slug).")
    revision: int
    published_at: datetime
    reviews: list[ReceiptReview]
    changes: list[ChangeDoc]


class ToolDoc(_Tool):
    kind: Literal["site-tool"] = "site-tool"
    sources: list[SourceDoc]
    comparisons: list[ComparisonItem]
    receipt: Receipt
    updated_at: datetime


class ToolItem(_Doc):
    slug: str
    name: str
    url: str
    api: str
    ship_pct: int | None
    verdict: str | None
    reviewed_at: datetime


class CategoryDoc(_Doc):
    kind: Literal["site-category"] = "site-category"
    slug: str
    name: str
    url: str
    feed: str
    updated_at: datetime
    tools: list[ToolItem] = Field(description="Newest first.")
    comparisons: list[ComparisonItem] = Field(description="Newest first.")


class CategoryItem(_Doc):
    slug: str
    name: str
    url: str
    api: str
    feed: str
    tools: int
    comparisons: int
    updated_at: datetime


class Feeds(_Doc):
    atom: str
    json_feed: str


class IndexDoc(_Doc):
    kind: Literal["site-index"] = "site-index"
    name: str
    url: str
    updated_at: datetime | None
    comparisons: int
    tools: int
    feeds: Feeds
    categories: list[CategoryItem]
    latest: list[ComparisonItem] = Field(
        description="The newest comparisons; every one is on its category's list."
    )


SCHEMAS: dict[str, type[BaseModel]] = {
    "site-index": IndexDoc,
    "site-tool": ToolDoc,
    "site-comparison": ComparisonDoc,
    "site-category": CategoryDoc,
}
"""The API's documents, by the name `panel schema` knows them by."""


def dump(doc: BaseModel) -> bytes:
    return (json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n").encode()


# ---------------------------------------------------------------------------------------------
# Building the documents


def _category(name: str, slug: str, base: str) -> Link:
    return Link(
        slug=slug,
        name=clean(name),
        url=base + layout.category_page(slug),
        api=base + layout.api_category(slug),
    )


def _votes(votes: Votes | None) -> CommunityVotes | None:
    return (
        None
        if votes is None
        else CommunityVotes(ship=votes.ship, skip=votes.skip, imported_at=votes.imported_at)
    )


def _reviews(panel: ToolPanel, names: dict[str, str]) -> list[PublicReview]:
    return [
        PublicReview(
            persona=r.persona,
            persona_name=clean(names.get(r.persona) or r.persona.capitalize()),
            score=r.score,
            verdict=r.verdict,
            review=clean(r.review),
            edited=r.edited,
        )
        for r in panel.reviews
    ]


def comparison_item(row: RecordRow, base: str) -> ComparisonItem:
    return ComparisonItem(
        slug=row.slug,
        title=clean(row.title),
        url=base + layout.comparison_page(row.slug),
        api=base + layout.api_comparison(row.slug),
        outcome=row.outcome,
        decision=clean(f"{row.label} {row.reason}"),
        published_at=row.published_at,
    )


def _tool_fields(
    panel: ToolPanel, row: ToolRow, votes: Votes | None, names: dict[str, str], base: str
) -> dict:
    """What a comparison shows of a tool, which its own document starts with."""
    tool = panel.tool
    return {
        "slug": row.slug,
        "name": clean(tool.name),
        "url": base + layout.tool_page(row.slug),
        "api": base + layout.api_tool(row.slug),
        "tagline": clean(tool.tagline),
        "description": clean(tool.description),
        "category": _category(row.category, row.category_slug, base),
        "pricing": tool.pricing,
        "website": tool.url,
        "summary": panel.summary,
        "community": _votes(votes),
        "reviews": _reviews(panel, names),
    }


def comparison_doc(record: Comparison, row: RecordRow, names: dict[str, str], base: str) -> ComparisonDoc:
    tools = [
        ComparisonTool(**_tool_fields(panel, tool_row, tool_row.votes, names, base))
        for panel, tool_row in zip(record.panels, row.tools, strict=True)
    ]
    categories = {t.category_slug: t.category for t in row.tools}
    return ComparisonDoc(
        slug=row.slug,
        url=base + layout.comparison_page(row.slug),
        title=clean(record.title),
        question=record.question,
        decision=record.decision,
        categories=[_category(name, slug, base) for slug, name in categories.items()],
        revision=row.revision,
        first_published_at=row.first_published,
        published_at=row.published_at,
        tools=tools,
    )


def tool_doc(
    record: Comparison | ToolPanel,
    canon: Canon,
    rows: list[RecordRow],
    votes: Votes | None,
    names: dict[str, str],
    base: str,
) -> ToolDoc:
    """The tool's document from `record`, the last to publish its panel (`canon`); `rows`: every
    record it is in, newest first."""
    panel = panel_of(record, canon.tool.slug)
    tool = panel.tool
    changes = [
        ChangeDoc(at=c.at, by=clean(c.by), action=c.action, fields=[clean(f) for f in fields])
        for c, fields in tool_history(record, tool.name)
    ]
    return ToolDoc(
        **_tool_fields(panel, canon.tool, votes, names, base),
        sources=[SourceDoc(title=clean(s.title), url=s.url, fetched_at=s.fetched_at) for s in tool.sources],
        comparisons=[comparison_item(r, base) for r in rows if r.kind == "comparison"],
        receipt=Receipt(
            record=canon.record_slug,
            revision=record.revision,
            published_at=canon.record_published,
            reviews=[
                ReceiptReview(
                    persona=r.persona,
                    model=clean(r.provenance.model),
                    profile=clean(r.provenance.profile),
                    engine=clean(r.provenance.engine),
                    persona_digest=clean(r.provenance.persona_digest),
                    prompt_digest=clean(r.provenance.prompt_digest),
                    seed=r.provenance.sampling.seed,
                    drawn_at=r.provenance.created_at,
                )
                for r in panel.reviews
            ],
            changes=changes,
        ),
        updated_at=max(r.changed_at for r in rows),
    )


def tool_item(canon: Canon, base: str) -> ToolItem:
    t = canon.tool
    return ToolItem(
        slug=t.slug,
        name=clean(t.name),
        url=base + layout.tool_page(t.slug),
        api=base + layout.api_tool(t.slug),
        ship_pct=t.ship_pct,
        verdict=t.verdict,
        reviewed_at=canon.record_published,
    )


def category_doc(
    row: CategoryRow, tools: list[Canon], comparisons: list[RecordRow], base: str
) -> CategoryDoc:
    return CategoryDoc(
        slug=row.slug,
        name=clean(row.name),
        url=base + layout.category_page(row.slug),
        feed=base + layout.category_feed(row.slug),
        updated_at=row.changed_at,
        tools=[tool_item(c, base) for c in tools],
        comparisons=[comparison_item(r, base) for r in comparisons],
    )


def category_item(row: CategoryRow, base: str) -> CategoryItem:
    return CategoryItem(
        slug=row.slug,
        name=clean(row.name),
        url=base + layout.category_page(row.slug),
        api=base + layout.api_category(row.slug),
        feed=base + layout.category_feed(row.slug),
        tools=row.tools,
        comparisons=row.comparisons,
        updated_at=row.changed_at,
    )
