"""Where each file of the site goes, and its address: the one place that knows the site's shape.

Paths are relative to the site's root, with `/` separators; slugs come from `store.slugify` or
`store.published_slug`, so a vendor's name never becomes a path. Pages link to each other with
relative addresses (the site works under any prefix, and from a folder); feeds, the sitemap and
structured data use absolute ones, from the base URL.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from panel.errors import InputError
from panel.records.store import slugify

INDEX = "index.html"
CSS = "assets/site.css"
ATOM = "feed.xml"
JSON_FEED = "feed.json"
SITEMAP = "sitemap.xml"
API_INDEX = "api/index.json"
UNCATEGORIZED = "Uncategorized"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"  # where `panel site serve` previews it
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def comparison_page(slug: str) -> str:
    return f"comparisons/{slug}.html"


def tool_page(slug: str) -> str:
    return f"tools/{slug}.html"


def category_page(slug: str) -> str:
    return f"categories/{slug}.html"


def category_feed(slug: str) -> str:
    return f"feeds/{slug}.xml"


def api_comparison(slug: str) -> str:
    return f"api/comparisons/{slug}.json"


def api_tool(slug: str) -> str:
    return f"api/tools/{slug}.json"


def api_category(slug: str) -> str:
    return f"api/categories/{slug}.json"


FRAGMENTS = "../fragments"  # beside the site, not in it: never served


def fragment(slug: str) -> str:
    """A comparison's content with absolute links, as feed entries carry it: built with its page,
    kept beside the site, so the feeds read it rather than render it again."""
    return f"{FRAGMENTS}/{slug}.html"


def served(path: str) -> bool:
    """Whether an output is part of the site (rather than kept beside it)."""
    return not path.startswith("../")


def digest_page(week: str, suffix: str) -> str:
    return f"digest/{week}.{suffix}"


def category_name(category: str) -> str:
    """A tool's category as the site names it: tools with none share one page."""
    return " ".join(category.split()) or UNCATEGORIZED


def category_slug(category: str) -> str:
    """Categories are labels: 'Developer Tools' and 'developer tools' are one page,
    categories/developer-tools.html. Anything else slugify makes safe, with its hash."""
    return slugify("-".join(category_name(category).lower().split()))


def root_of(path: str) -> str:
    """The relative prefix from a page at `path` back to the site's root ("" or "../")."""
    return "../" * path.count("/")


def base_url(text: str) -> str:
    """The site's address as given by --base-url: http(s), a host, an optional path; always
    ending in '/' so that page paths join onto it."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(
            f"{text!r} is not a site address",
            where="--base-url",
            hint="give the address the site will be served at, e.g. https://reviews.example/",
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def iso_week(text: str) -> str:
    """'2026-W49' as given to --week, checked (weeks 01 to 52, or 53 where the year has one)."""
    from datetime import date

    match = _WEEK.match(text.strip())
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            return f"{year:04d}-W{week:02d}"
    raise InputError(f"{text!r} is not an ISO week", where="--week", hint="write it as 2026-W49")


@dataclass(frozen=True)
class Urls:
    """Addresses of the site's files: absolute (feeds, sitemap, structured data, e-mail) or
    relative to the page being written."""

    base: str

    def absolute(self, path: str) -> str:
        return self.base if path == INDEX else self.base + path

    @staticmethod
    def relative(path: str, page: str) -> str:
        return root_of(page) + path
