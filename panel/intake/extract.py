"""A vendor page as text: its main text, everything else it shows, its name and pitch, its links.

Main text comes from trafilatura (tables kept, Markdown out). Extraction drops text on landing
and pricing pages (a plan table, a hero line), so a whole-page pass with inscriptis follows, and
every line of it the main text lacks is kept too, under its own heading: claims are checked
against both, and "not in the extracted text" never becomes "contradicted". Name, tagline and
description come from OpenGraph, the title and the meta description, then the first real
paragraph. A page that only JavaScript can fill (an empty shell, a Next.js `__NEXT_DATA__` blob)
gives the embedded JSON's text where there is some, else is flagged as needing material by hand:
an empty page is never evidence that something is absent.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import inscriptis
import lxml.html
import trafilatura
from inscriptis.model.config import ParserConfig
from lxml import etree

from panel.core.text import one_paragraph, without_control
from panel.intake.structured import read_structured
from panel.records import MAX_DESCRIPTION, MAX_NAME, MAX_TAGLINE

ALSO_ON_PAGE = "## Also on the page"
STRUCTURED_HEADING = "## Structured data on the page"
MIN_TEXT = 200  # characters of visible text below which a page with scripts is a JavaScript shell
MIN_PARAGRAPH = 60
_SEPARATORS = re.compile(r"\s+[|–—·•]\s+|\s+-\s+|:\s+")
_MARKUP = re.compile(r"[*_`#>|\[\]]+")
_BULLET = re.compile(r"^(?:[-*+•◦▪]|\d{1,3}[.)])\s+")
_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")
_SPACE = re.compile(r"\s+")
_NEXT_SKIP = frozenset(
    {"buildId", "page", "query", "assetPrefix", "runtimeConfig", "locale", "locales", "href"}
)
_INSCRIPTIS = ParserConfig(display_links=False, display_images=False)


@dataclass(frozen=True)
class Link:
    url: str  # absolute, without its fragment
    text: str


@dataclass(frozen=True)
class Page:
    """What one page says, ready to become a source. Every string is untrusted vendor text."""

    url: str
    title: str
    name: str
    tagline: str
    description: str
    text: str  # Markdown: the main text, then what else the page shows, then structured data
    links: tuple[Link, ...]
    problems: tuple[str, ...]  # broken structured data, skipped
    needs_hand: str  # why the page needs material added by hand; "" when it has text


def read_page(html: str, url: str) -> Page:
    """Read an HTML page (already decoded)."""
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)  # lxml refuses an encoding declaration in a str
    try:
        tree = lxml.html.document_fromstring(html) if html.strip() else None
    except (etree.ParserError, ValueError):
        tree = None
    if tree is None:
        return Page(url, "", "", "", "", "", (), (), "the page is empty")
    structured = read_structured(tree, url)
    og = structured.opengraph
    title = one_paragraph(tree.findtext(".//title") or "")
    meta = _meta_description(tree) or og.get("og:description", "")
    main = _main_text(html, url)
    extra = _missing_lines(_whole_text(html), main)
    next_text = "" if len(main) + len(extra) >= MIN_TEXT else _next_data_text(tree)
    parts = [main, f"{ALSO_ON_PAGE}\n\n{extra}" if extra else "", next_text]
    if structured.sentences:
        parts.append(STRUCTURED_HEADING + "\n\n" + "\n".join(f"- {s}" for s in structured.sentences))
    text = _tidy("\n\n".join(p for p in parts if p))
    visible = len(main) + len(extra) + len(next_text)
    needs_hand = ""
    if visible < MIN_TEXT and tree.find(".//script") is not None:
        needs_hand = "the page is rendered by JavaScript and has no text to read; add its material by hand"
    elif not text:
        needs_hand = "the page has no text to read; add its material by hand"
    name, tagline = _name_and_tagline(og, title)
    paragraph = _first_paragraph(main or next_text, meta)
    return Page(
        url=url,
        title=title,
        name=name,
        tagline=tagline or _first_sentence(meta or paragraph, MAX_TAGLINE),
        description=_cut(" ".join(p for p in (meta, paragraph) if p), MAX_DESCRIPTION),
        text=text,
        links=tuple(_links(tree, url)),
        problems=structured.problems,
        needs_hand=needs_hand,
    )


def _tidy(text: str) -> str:
    """No control characters, no spaces at line ends (they would force YAML's quoted style)."""
    return "\n".join(line.rstrip() for line in without_control(text).splitlines()).strip()


def read_plain(text: str, url: str) -> Page:
    """A text/plain or Markdown page: its text as it is, its first line as its title."""
    text = _tidy(text)
    first = one_paragraph(text.splitlines()[0].lstrip("# ")) if text else ""
    description = _cut(_first_paragraph(text, ""), MAX_DESCRIPTION)
    return Page(url, first, "", "", description, text, (), (), "" if text else "the page is empty")


def _meta_description(tree: Any) -> str:
    for node in tree.iterfind(".//meta[@name]"):
        if node.get("name", "").lower() == "description":
            return one_paragraph(node.get("content", ""))
    return ""


def _main_text(html: str, url: str) -> str:
    extracted = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        favor_recall=True,
        deduplicate=False,
        fast=True,  # no second extractor to compare with: the whole-page pass is that fallback
    )
    return (extracted or "").strip()


def _whole_text(html: str) -> str:
    try:
        return inscriptis.get_text(html, _INSCRIPTIS)
    except (etree.ParserError, ValueError):
        return ""


def _normal(text: str) -> str:
    """Text as both passes write it: no Markdown marks, list markers or spacing differences."""
    lines = (_BULLET.sub("", line.strip()) for line in _MARKUP.sub("", text).splitlines())
    return _BEFORE_PUNCT.sub(r"\1", _SPACE.sub(" ", " ".join(lines))).strip().lower()


def _missing_lines(whole: str, main: str) -> str:
    """Lines of the whole page that the main text does not contain, in page order, once each."""
    have = _normal(main)
    seen: set[str] = set()
    out = []
    for raw in whole.splitlines():
        line = _SPACE.sub(" ", raw).strip()
        key = _normal(line)
        if len(key) < 3 or key in seen or key in have:
            continue
        seen.add(key)
        out.append(line)
    return "\n".join(out)


def _next_data_text(tree: Any) -> str:
    """The prose inside a Next.js page's `__NEXT_DATA__` JSON (and other JSON scripts)."""
    texts: list[str] = []
    for script in tree.iterfind(".//script"):
        if script.get("id") != "__NEXT_DATA__" and script.get("type") != "application/json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        texts.extend(_strings(data))
    return "\n\n".join(dict.fromkeys(texts))


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _NEXT_SKIP:
                yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif isinstance(value, str):
        text = one_paragraph(value)
        prose = " " in text or bool(re.search(r"\d", text))
        if prose and not text.startswith(("http://", "https://", "/", "{", "[")):
            yield text


def _links(tree: Any, url: str) -> Iterator[Link]:
    base = url
    for node in tree.iterfind(".//base[@href]"):
        href = urllib.parse.urljoin(url, node.get("href", "").strip())
        if href.startswith(("http://", "https://")):
            base = href
        break
    seen: set[str] = set()
    for node in tree.iterfind(".//a[@href]"):
        href = node.get("href", "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:", "data:")):
            continue
        absolute = urllib.parse.urldefrag(urllib.parse.urljoin(base, href)).url
        if not absolute.startswith(("http://", "https://")) or absolute in seen:
            continue
        seen.add(absolute)
        text = one_paragraph(node.text_content() or node.get("aria-label", "") or node.get("title", ""))
        yield Link(absolute, text[:200])


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis when it had to be cut."""
    text = one_paragraph(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–—") + "…"


def _first_sentence(text: str, limit: int) -> str:
    match = re.match(r"(.+?[.!?])(?:\s|$)", text)
    return _cut(match.group(1) if match else text, limit)


def split_title(title: str) -> tuple[str, str]:
    """'Foo – a faster bar' -> ('Foo', 'a faster bar'); 'Foo' -> ('Foo', '')."""
    parts = _SEPARATORS.split(one_paragraph(title), maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0].strip(), parts[1].strip()
    return one_paragraph(title), ""


def _name_and_tagline(og: Mapping[str, str], title: str) -> tuple[str, str]:
    """The name and the pitch: OpenGraph's site name when there is one ('Pricing | Foo' then
    names Foo), else the title split at its separator."""
    head, rest = split_title(og.get("og:title", "") or title)
    site = og.get("og:site_name", "")
    if site:
        other = rest if head.lower() == site.lower() else head if rest.lower() == site.lower() else ""
        return _cut(site, MAX_NAME), _cut(other, MAX_TAGLINE)
    return _cut(head, MAX_NAME), _cut(rest, MAX_TAGLINE)


def _first_paragraph(text: str, skip: str) -> str:
    """The first paragraph that reads as prose: long enough, not a heading, list, table or quote."""
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block or block[0] in "#|>![`" or re.match(r"(?:[-*+]|\d+[.)])\s", block):
            continue
        prose = one_paragraph(_MARKUP.sub("", block))
        if len(prose) >= MIN_PARAGRAPH and prose.lower() != skip.lower() and not prose.isupper():
            return prose
    return ""
