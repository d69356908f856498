"""Structured data (schema.org, as JSON-LD) for each page.

A tool is a `SoftwareApplication` with its name, category, an `offers` price (0 when there is a
way to use it free) and one `Review`: the panel's, authored by the publication, rated with the
panel's ship share out of 100. A comparison is an `ItemList` of its applications. Persona scores
never become an `AggregateRating`: search engines take ratings only from real users, and the
personas are not users. Community votes do, but only when `panel votes import` wrote them (the
record's history says so), with their count.

`script` encodes the data for a <script type="application/ld+json"> block: `<`, `>` and `&` are
JSON escapes there, so no vendor string can close the block or open a comment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from panel.editorial.render import clean
from panel.grounding.prices import entry_is_free, prices
from panel.records import Pricing, ToolPanel
from panel.site.collect import Votes

CONTEXT = "https://schema.org"
_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script(data: dict[str, Any]) -> Markup:
    """JSON for inside a <script> element: nothing in it can end the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return Markup(text.translate(_SCRIPT_SAFE))  # noqa: S704 - escaped for a script block above


@dataclass(frozen=True)
class Publisher:
    """Who the reviews are by: the site itself, and the editor who published the record."""

    name: str
    url: str
    editor: str
    published: datetime


def offer(pricing: Pricing) -> dict[str, Any] | None:
    """The price to start using the tool: 0 for a free, freemium or open-source entry, else
    the first amount the pricing detail states; None when it states none (no price invented)."""
    if entry_is_free(pricing.entry):
        return {"@type": "Offer", "price": 0}
    found = next((m for m in prices(pricing.detail) if m.currency), None)
    if found is None:
        return None
    return {"@type": "Offer", "price": _number(found.amount), "priceCurrency": found.currency}


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def review(panel: ToolPanel, by: Publisher) -> dict[str, Any] | None:
    """The panel's review of the tool, rated with its ship share; None when no persona reviewed it."""
    s = panel.summary
    if s.ship_pct is None or s.verdict is None:
        return None
    data: dict[str, Any] = {
        "@type": "Review",
        "name": f"Panel verdict: {s.verdict}",
        "reviewBody": f"{s.ship} of {s.ship + s.skip} reviewers would ship it; mean score {s.mean_score}.",
        "author": {"@type": "Organization", "name": clean(by.name), "url": by.url},
        "datePublished": by.published.date().isoformat(),
        "reviewRating": {"@type": "Rating", "ratingValue": s.ship_pct, "bestRating": 100, "worstRating": 0},
    }
    if by.editor:
        data["editor"] = {"@type": "Person", "name": clean(by.editor)}
    return data


def aggregate_rating(votes: Votes | None) -> dict[str, Any] | None:
    """Readers' votes as a rating: the share who would ship it, out of 100, with the count.
    Only votes `panel votes import` wrote count; a persona's score never does."""
    if votes is None or votes.imported_at is None or votes.ship + votes.skip == 0:
        return None
    total = votes.ship + votes.skip
    return {
        "@type": "AggregateRating",
        "ratingValue": round(100 * votes.ship / total),
        "bestRating": 100,
        "worstRating": 0,
        "ratingCount": total,
    }


def application(panel: ToolPanel, page_url: str, by: Publisher, votes: Votes | None) -> dict[str, Any]:
    """A tool as schema.org's SoftwareApplication."""
    tool = panel.tool
    data: dict[str, Any] = {
        "@type": "SoftwareApplication",
        "name": clean(tool.name),
        "applicationCategory": clean(tool.category) or "Uncategorized",
        "url": page_url,
    }
    if tool.tagline:
        data["description"] = clean(tool.tagline)
    if tool.url:
        data["sameAs"] = tool.url
    if (price := offer(tool.pricing)) is not None:
        data["offers"] = price
    if (rated := review(panel, by)) is not None:
        data["review"] = rated
    if (rating := aggregate_rating(votes)) is not None:
        data["aggregateRating"] = rating
    return data


def tool_page(panel: ToolPanel, page_url: str, by: Publisher, votes: Votes | None) -> dict[str, Any]:
    return {"@context": CONTEXT, **application(panel, page_url, by, votes)}


def comparison_page(
    title: str, page_url: str, apps: list[tuple[ToolPanel, str, Votes | None]], by: Publisher
) -> dict[str, Any]:
    """A comparison as an ItemList of its applications: (panel, tool page URL, votes) each."""
    return {
        "@context": CONTEXT,
        "@type": "ItemList",
        "name": clean(title),
        "url": page_url,
        "numberOfItems": len(apps),
        "itemListElement": [
            {"@type": "ListItem", "position": i, "item": application(panel, url, by, votes)}
            for i, (panel, url, votes) in enumerate(apps, 1)
        ],
    }


def collection_page(name: str, page_url: str, items: list[tuple[str, str]]) -> dict[str, Any]:
    """A category page: the comparisons on it, (title, URL) each, as an ItemList."""
    return {
        "@context": CONTEXT,
        "@type": "CollectionPage",
        "name": clean(name),
        "url": page_url,
        "mainEntity": {
            "@type": "ItemList",
            "numberOfItems": len(items),
            "itemListElement": [
                {"@type": "ListItem", "position": i, "name": clean(title), "url": url}
                for i, (title, url) in enumerate(items, 1)
            ],
        },
    }


def website(name: str, url: str) -> dict[str, Any]:
    return {"@context": CONTEXT, "@type": "WebSite", "name": clean(name), "url": url}
