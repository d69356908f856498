"""Choosing what of a long page fits a source: the passages that carry specifics.

A README or docs page can be longer than a source may be (20,000 characters). The passages that
state prices, licenses, versions, figures and feature lists are kept, ranked with BM25 (bm25s)
against a vocabulary of such specifics plus a count of the specifics each passage states, and
written back in their order with their headings. What was left out is recorded in one line.

bm25s's own tokenizer drops one-character tokens, and with them the 5 of "$5" and the "$" and
"%" that make a figure a price or a share: passages are tokenized here instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from panel.records import MAX_LEFT_OUT

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*|[$€£¥₹%]")
_SPECIFIC = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?(?:%|percent\b)|\bv?\d+\.\d+(?:\.\d+)?\b|\b(?:19|20)\d{2}\b"
    r"|\b\d[\d,.]*\s?(?:ms|s|seconds?|minutes?|hours?|days?|[kmgt]i?b|requests?|users?|seats?|x)\b"
    r"|\b(?:MIT|Apache|GPL|AGPL|LGPL|BSD|MPL|BUSL|BSL|SSPL|Elastic|ISC|Unlicense|CC[- ]BY)\b",
    re.I,
)
QUERY = tuple(
    [
        "$",
        "€",
        "£",
        "¥",
        "%",
        "price",
        "prices",
        "pricing",
        "plan",
        "plans",
        "tier",
        "free",
        "trial",
        "month",
        "monthly",
        "year",
        "yearly",
        "annual",
        "seat",
        "seats",
        "user",
        "users",
        "per",
        "license",
        "licensed",
        "licence",
        "licensing",
        "mit",
        "apache",
        "gpl",
        "agpl",
        "lgpl",
        "bsd",
        "mpl",
        "busl",
        "bsl",
        "elastic",
        "proprietary",
        "commercial",
        "open",
        "source",
        "version",
        "versions",
        "release",
        "released",
        "latest",
        "changelog",
        "requires",
        "supports",
        "support",
        "features",
        "limit",
        "limits",
        "gb",
        "mb",
        "tb",
        "ms",
        "seconds",
        "requests",
        "enterprise",
        "team",
        "pro",
        "starter",
    ]
)
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_FENCE = re.compile(r"^\s*(?:```|~~~)[\w+-]*\s*$", re.M)
PIECE = 1500  # characters: a longer block is split at line breaks so it can be kept in part


@dataclass(frozen=True)
class Selection:
    text: str
    left_out: str  # "" when everything fitted


@dataclass
class _Block:
    text: str
    heading: int  # its level, 0 for a passage
    parents: tuple[int, ...]  # indexes of the headings above it
    score: float = 0.0
    kept: bool = False


def tokens(text: str) -> list[str]:
    """Words, numbers (with their decimals) and the symbols $ € £ ¥ ₹ %, lower case."""
    return _TOKEN.findall(text.lower())


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = block.strip()
        while len(block) > PIECE:
            cut = block.rfind("\n", 0, PIECE)
            cut = cut if cut > PIECE // 4 else block.rfind(" ", 0, PIECE)
            cut = cut if cut > 0 else PIECE
            pieces.append(block[:cut].strip())
            block = block[cut:].strip()
        if block:
            pieces.append(block)
    return pieces


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    stack: list[tuple[int, int]] = []  # (level, index) of the headings in force
    for piece in _split(text):
        match = _HEADING.match(piece) if "\n" not in piece else None
        if match:
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            blocks.append(_Block(piece, level, tuple(i for _, i in stack)))
            stack.append((level, len(blocks) - 1))
        else:
            blocks.append(_Block(piece, 0, tuple(i for _, i in stack)))
    return blocks


def _score(passages: list[_Block]) -> None:
    import bm25s  # numpy and scipy: loaded only when a page is too long

    retriever = bm25s.BM25()
    retriever.index([tokens(b.text) or ["-"] for b in passages], show_progress=False)
    scores = retriever.get_scores(list(QUERY))
    for position, (block, score) in enumerate(zip(passages, scores, strict=True)):
        specifics = len(_SPECIFIC.findall(block.text))
        block.score = float(score) + min(specifics, 6) + (3.0 if position < 2 else 0.0)


def fit(text: str, limit: int) -> Selection:
    """The text if it fits in `limit` characters; otherwise its best passages, in order, with the
    headings above them, and a note of what was left out."""
    text = text.strip()
    if len(text) <= limit:
        return Selection(text, "")
    blocks = _blocks(_FENCE.sub("", text))  # a fence cut in two would swallow what follows it
    passages = [b for b in blocks if not b.heading]
    if passages:
        _score(passages)
    used = 0
    for block in sorted(passages, key=lambda b: b.score, reverse=True):
        headings = [blocks[i] for i in block.parents if not blocks[i].kept]
        cost = len(block.text) + 2 + sum(len(h.text) + 2 for h in headings)
        if used + cost <= limit:
            block.kept = True
            for heading in headings:
                heading.kept = True
            used += cost
    kept = "\n\n".join(b.text for b in blocks if b.kept)[:limit]
    return Selection(kept, _left_out(blocks, passages, limit))


def _left_out(blocks: list[_Block], passages: list[_Block], limit: int) -> str:
    dropped = [b for b in passages if not b.kept]
    if not dropped:
        return ""
    sections = []
    for block in dropped:
        title = blocks[block.parents[-1]].text.lstrip("#").strip() if block.parents else "(top of the page)"
        if title not in sections:
            sections.append(title)
    chars = sum(len(b.text) for b in dropped)
    note = (
        f"Left out {len(dropped)} of {len(passages)} passages ({chars:,} characters) to stay within "
        f"{limit:,} characters, from: {'; '.join(sections)}."
    )
    return note if len(note) <= MAX_LEFT_OUT else note[: MAX_LEFT_OUT - 2].rsplit(";", 1)[0] + " …"
