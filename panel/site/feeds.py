"""The feeds: Atom (with feedgenerator) and JSON Feed 1.1, each entry a comparison in full, every
address absolute. Dates are the records' own: an entry is published when its comparison was first
published and updated at its latest publication; the feed is as new as its newest entry.

Escaping is the formats' own: feedgenerator writes text through an XML writer, and the JSON Feed
goes through the JSON encoder. Characters XML 1.0 cannot carry are dropped before either.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgenerator import Atom1Feed

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
FEED_ENTRIES = 20  # the newest comparisons each feed carries, in full
# XML 1.0 has no place for C0 controls but tab and newlines, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Entry:
    title: str
    url: str
    summary: str
    content: str  # HTML, links absolute
    published: datetime  # first publication
    updated: datetime  # latest publication
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Feed:
    title: str
    subtitle: str
    home: str  # the page the feed is of
    url: str  # the feed's own address
    author: str
    updated: datetime  # the newest change among its entries (or its records, when it has none)


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


class _Atom(Atom1Feed):
    """feedgenerator's Atom feed, dated by its entries: with no entries it would use the clock."""

    def __init__(self, updated: datetime, **kwargs: object):
        super().__init__(**kwargs)
        self._updated = updated

    def latest_post_date(self) -> datetime:
        return self._updated


def atom(feed: Feed, entries: Sequence[Entry]) -> bytes:
    out = _Atom(
        feed.updated,
        title=_xml(feed.title),
        link=feed.home,
        description=_xml(feed.subtitle),
        language="en",
        author_name=_xml(feed.author),
        feed_url=feed.url,
        feed_guid=feed.url,
    )
    for entry in entries:
        out.add_item(
            title=_xml(entry.title),
            link=entry.url,
            description=_xml(entry.summary),
            content=_xml(entry.content),
            unique_id=entry.url,
            pubdate=entry.published,
            updateddate=entry.updated,
            categories=[_xml(c) for c in entry.categories],
        )
    buffer = io.StringIO()
    out.write(buffer, "utf-8")
    return buffer.getvalue().encode("utf-8")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def json_feed(feed: Feed, entries: Sequence[Entry]) -> bytes:
    data = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "description": feed.subtitle,
        "home_page_url": feed.home,
        "feed_url": feed.url,
        "language": "en",
        "authors": [{"name": feed.author}],
        "items": [
            {
                "id": e.url,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "content_html": e.content,
                "date_published": _iso(e.published),
                "date_modified": _iso(e.updated),
                "tags": list(e.categories),
            }
            for e in entries
        ],
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode()
