"""sitemap.xml (the sitemaps.org protocol, 0.9): every page with the date its records last really
changed, never the date of the build. Past 50,000 addresses, the protocol's limit per file, the
pages go into numbered sitemaps and sitemap.xml becomes their index."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.sax.saxutils import escape

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000
_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<{{tag}} xmlns="{NAMESPACE}">\n'


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(tag: str, item: str, entries: Iterable[tuple[str, datetime]]) -> bytes:
    lines = [_HEAD.format(tag=tag)]
    lines += [
        f"<{item}><loc>{escape(url)}</loc><lastmod>{_stamp(at)}</lastmod></{item}>\n" for url, at in entries
    ]
    lines.append(f"</{tag}>\n")
    return "".join(lines).encode()


def urlset(pages: Iterable[tuple[str, datetime]]) -> bytes:
    """One sitemap: (absolute URL, last change) per page."""
    return _document("urlset", "url", pages)


def sitemap_index(sitemaps: Iterable[tuple[str, datetime]]) -> bytes:
    return _document("sitemapindex", "sitemap", sitemaps)
