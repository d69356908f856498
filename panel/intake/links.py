"""The pages claims need, found among a vendor page's links by their text and their path: pricing
or plans, license or terms, docs or getting started, changelog or releases. Same site only (the
host, or a subdomain of it such as docs.), within a page budget per tool.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from panel.intake.extract import Link

Purpose = Literal["pricing", "license", "docs", "changelog"]
PAGE_BUDGET = 6  # pages per tool, the tool's own page included
_RULES: dict[Purpose, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "pricing": (
        re.compile(r"\b(?:pricing|prices?|plans?|buy|purchase|subscribe|upgrade)\b", re.I),
        re.compile(r"(?:pricing|plans?|prices?|buy|purchase)", re.I),
    ),
    "license": (
        re.compile(r"\b(?:licen[cs]es?|licensing|terms|legal|eula|copying)\b", re.I),
        re.compile(r"(?:licen[cs]e|licensing|terms|legal|eula|copying)", re.I),
    ),
    "docs": (
        re.compile(
            r"\b(?:docs|documentation|get(?:ting)? started|quick ?start|guide|install(?:ation)?"
            r"|manual|tutorial)\b",
            re.I,
        ),
        re.compile(r"(?:docs?|documentation|getting-started|get-started|quick-?start|guide|install)", re.I),
    ),
    "changelog": (
        re.compile(r"\b(?:change ?log|releases?|release notes|what'?s new|history|updates)\b", re.I),
        re.compile(r"(?:changelog|changes|releases?|release-notes|history|whats-new)", re.I),
    ),
}
_PREFERRED = re.compile(r"licen[cs]e|pricing|getting.started|quick.?start|changelog", re.I)
_BINARY = re.compile(
    r"\.(?:pdf|zip|gz|tgz|bz2|xz|7z|png|jpe?g|gif|svg|webp|ico|mp4|mov|exe|dmg|msi|deb|rpm|whl)$", re.I
)


@dataclass(frozen=True)
class Candidate:
    purpose: Purpose
    link: Link
    score: int


def _host(url: str) -> str:
    return (urllib.parse.urlsplit(url).hostname or "").lower().removeprefix("www.")


def same_site(url: str, page_url: str) -> bool:
    """The same host (www. aside), a subdomain of it, or the host it is a subdomain of."""
    a, b = _host(url), _host(page_url)
    same_port = urllib.parse.urlsplit(url).port == urllib.parse.urlsplit(page_url).port
    return bool(a) and same_port and (a == b or a.endswith(f".{b}") or b.endswith(f".{a}"))


def _score(purpose: Purpose, link: Link) -> int:
    text_rule, path_rule = _RULES[purpose]
    path = urllib.parse.urlsplit(link.url).path
    score = 2 * bool(text_rule.search(link.text)) + bool(path_rule.search(path))
    if score and (_PREFERRED.search(link.text) or _PREFERRED.search(path)):
        score += 1
    return score


def candidates(page_url: str, links: Sequence[Link]) -> list[Candidate]:
    """Same-site links that look like one of the purposes, best first within each purpose."""
    page = urllib.parse.urldefrag(page_url).url
    found = []
    for position, link in enumerate(links):
        if link.url == page or not same_site(link.url, page_url):
            continue
        if _BINARY.search(urllib.parse.urlsplit(link.url).path):
            continue
        for purpose in _RULES:
            score = _score(purpose, link)
            if score:
                found.append((score, -position, Candidate(purpose, link, score)))
    return [c for _, _, c in sorted(found, key=lambda x: (x[0], x[1]), reverse=True)]


def choose(page_url: str, links: Sequence[Link], budget: int = PAGE_BUDGET) -> list[Candidate]:
    """The pages to fetch besides the tool's own: the best link for each purpose first (in the
    order pricing, license, docs, changelog), then the next best of any, up to budget - 1."""
    ranked = candidates(page_url, links)
    chosen: list[Candidate] = []
    urls: set[str] = set()
    for purpose in _RULES:
        best = next((c for c in ranked if c.purpose == purpose and c.link.url not in urls), None)
        if best is not None and len(chosen) < budget - 1:
            chosen.append(best)
            urls.add(best.link.url)
    for candidate in ranked:
        if len(chosen) >= budget - 1:
            break
        if candidate.link.url not in urls and candidate.score >= 2:
            chosen.append(candidate)
            urls.add(candidate.link.url)
    return chosen
