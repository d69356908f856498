"""Launch feeds: Atom, RSS 2.0 and JSON Feed 1.1 documents, read entry by entry.

Atom and RSS are streamed with lxml and each entry is read by feedparser on its own, so memory
does not grow with the feed's length; the document is checked whole first, so a feed that
cannot be read is refused before anything is written. JSON Feed is read with panel's strict
JSON reader. Titles such as "Show HN: Foo – a faster bar" give the name "Foo" and the tagline
"a faster bar". An entry is known by its id, else its link.
"""

from __future__ import annotations

import io
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from panel.core.loading import parse_text
from panel.core.text import one_paragraph
from panel.errors import InputError
from panel.intake.extract import split_title

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
_ENTRY_TAGS = (f"{ATOM}entry", "item", f"{RSS1}item")
_ROOTS = {f"{ATOM}feed": "atom", "rss": "rss", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF": "rss"}
_LAUNCH_PREFIX = re.compile(
    r"^\s*(?:(?:Show|Launch|Ask|Tell)\s+(?:HN|PH|Reddit)|Launching|Introducing)\s*[:–—-]\s*", re.I
)
JSON_FEED = "https://jsonfeed.org/version/1"


@dataclass(frozen=True)
class Entry:
    """One launch: where to read it, and what the feed says of it."""

    where: str  # 'entry 3', for messages
    key: str  # the id, else the link: how a later run knows it was taken in
    link: str
    name: str
    tagline: str
    summary: str


@dataclass(frozen=True)
class BadEntry:
    where: str
    problem: str


def name_and_tagline(title: str) -> tuple[str, str]:
    """'Show HN: Foo – a faster bar' -> ('Foo', 'a faster bar')."""
    return split_title(_LAUNCH_PREFIX.sub("", one_paragraph(title)))


def _text(html: str) -> str:
    """An entry's summary as plain text (feeds carry HTML there)."""
    if "<" not in html:
        return one_paragraph(html)
    try:
        return one_paragraph(lxml.html.fragment_fromstring(html, create_parent="div").text_content())
    except (etree.ParserError, ValueError):
        return one_paragraph(re.sub(r"<[^>]+>", " ", html))


def _entry(where: str, key: Any, link: Any, title: Any, summary: Any, base: str) -> Entry | BadEntry:
    link = urllib.parse.urljoin(base, str(link).strip()) if isinstance(link, str) and link.strip() else ""
    if not link.startswith(("http://", "https://")):
        return BadEntry(where, "no http(s) link to the tool")
    name, tagline = name_and_tagline(str(title or ""))
    key = str(key).strip() if isinstance(key, str | int) and str(key).strip() else link
    return Entry(where, key, link, name, tagline, _text(str(summary or "")))


# --- Atom and RSS ---------------------------------------------------------------------------------


def _parser_args() -> dict[str, Any]:
    # No entities resolved, nothing fetched, no huge trees: a feed is untrusted XML.
    return {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}


def _check_xml(body: bytes, where: str) -> tuple[str, int]:
    """The feed's format and entry count, reading the whole document once (InputError if it is
    not a well-formed Atom or RSS document)."""
    kind, count = "", 0
    try:
        for event, element in etree.iterparse(io.BytesIO(body), events=("start", "end"), **_parser_args()):
            if event == "start":
                if not kind:
                    kind = _ROOTS.get(element.tag, "?")
                    if kind == "?":
                        root = etree.QName(element).localname
                        raise InputError(
                            f"not an Atom, RSS or JSON Feed document (its root is <{root}>)", where=where
                        )
                continue
            if element.tag in _ENTRY_TAGS:
                count += 1
            if element.getparent() is not None and element.getparent().tag in (*_ROOTS, "channel"):
                element.clear()
    except etree.XMLSyntaxError as exc:
        raise InputError(f"the feed is not well-formed XML: {exc}", where=where) from None
    return kind, count


def _wrap(kind: str, entry: bytes) -> bytes:
    if kind == "atom":
        return b'<feed xmlns="http://www.w3.org/2005/Atom">' + entry + b"</feed>"
    return b'<rss version="2.0"><channel>' + entry + b"</channel></rss>"


def _xml_entries(body: bytes, kind: str, base: str) -> Iterator[Entry | BadEntry]:
    number = 0
    for _, element in etree.iterparse(io.BytesIO(body), events=("end",), tag=_ENTRY_TAGS, **_parser_args()):
        number += 1
        parsed = feedparser.parse(_wrap(kind, etree.tostring(element)))
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
        if not parsed.entries:
            yield BadEntry(f"entry {number}", "cannot be read")
            continue
        item = parsed.entries[0]
        summary = item.get("summary") or (item.get("content") or [{}])[0].get("value", "")
        yield _entry(f"entry {number}", item.get("id"), item.get("link"), item.get("title"), summary, base)


# --- JSON Feed --------------------------------------------------------------------------------------


def _json_items(body: bytes, where: str) -> list[Any]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the JSON Feed is not valid UTF-8 (byte {exc.start})", where=where) from None
    try:
        data = parse_text(text, Path("feed.json"))
    except InputError as exc:
        raise InputError(exc.problem, where=where) from None
    if not isinstance(data, Mapping) or not str(data.get("version", "")).startswith(JSON_FEED):
        raise InputError(f"not a JSON Feed: `version` must be {JSON_FEED}.1", where=where)
    items = data.get("items")
    if not isinstance(items, list):
        raise InputError("items: expected a list of entries", where=where)
    return items


def _json_entries(items: list[Any], base: str) -> Iterator[Entry | BadEntry]:
    for number, item in enumerate(items, start=1):
        where = f"entry {number}"
        if not isinstance(item, Mapping):
            yield BadEntry(where, "expected an object")
            continue
        summary = item.get("summary") or item.get("content_text") or item.get("content_html") or ""
        link = item.get("url") or item.get("external_url")
        yield _entry(where, item.get("id"), link, item.get("title"), summary, base)


# --- either -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """A readable feed: how many entries it has, and a fresh iterator over them."""

    where: str
    count: int
    _body: bytes
    _kind: str
    _base: str
    _items: list[Any] | None = None

    def entries(self) -> Iterator[Entry | BadEntry]:
        if self._items is not None:
            return _json_entries(self._items, self._base)
        return _xml_entries(self._body, self._kind, self._base)


def open_feed(body: bytes, content_type: str, where: str, base: str = "") -> Feed:
    """Check a feed document and get ready to read it; InputError when it cannot be read."""
    if not body.strip():
        raise InputError("the feed is empty", where=where)
    if "json" in content_type or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        items = _json_items(body, where)
        return Feed(where, len(items), body, "json", base, items)
    kind, count = _check_xml(body, where)
    return Feed(where, count, body, kind, base)
