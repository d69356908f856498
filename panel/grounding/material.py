"""The material a review is checked against: the tool's own fields and its sources, split into
sentences with stable ids (s1, s2, ...), plus the facts the rules layer reads from them.

The ids are cited by the model pass under constrained decoding, so the order is fixed: name,
tagline, category, pricing.entry, pricing.detail, url, description, then each source in order.
Building a material splits every field with pysbd (about half a millisecond per sentence), so it is
cached per tool content: a record's reviews, saves and re-checks reuse one material.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import pysbd

from panel.grounding.facts import Facts, Placement, extract_facts
from panel.grounding.spans import Sentence
from panel.records import Evidence, Tool

# Where a fetched source was read, by its material label: (address, time read).
Origins = tuple[tuple[str, str, datetime | None], ...]

# Fields kept whole: splitting a name, category, pricing entry or URL on dots would break them.
_WHOLE = frozenset({"name", "category", "pricing.entry", "url"})
_MARKER = re.compile(r"^(?:#{1,6}\s+|[-*+•]\s+|\d{1,3}[.)]\s+|>\s*)")
_NEW_BLOCK = re.compile(r"^(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>|\|)")
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"^(#{1,6})\s")
_FENCE = ("```", "~~~")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")  # | --- | :---: |
_EMPHASIS = re.compile(r"\*\*|(?<!\w)__(?=\w)|(?<=\w)__(?!\w)")  # Markdown bold: **Fast.** reads Fast.
# A block pysbd returns whole: plain words and commas, at most one closing mark, nothing it reads
# as a boundary (no inner stops, brackets or quotation marks, no run of spaces). Taglines, bullets
# and one-sentence fields are such blocks; tests/grounding/test_material.py holds the two equal.
_ONE_SENTENCE = re.compile(r"[A-Za-z0-9,' -]*[A-Za-z0-9][.!?]?")
MATERIAL_CACHE = 256


@dataclass(frozen=True)
class Material:
    """A tool's material: numbered sentences, and the facts the rules layer extracted from them.

    Two materials are equal when their digests are: the digest is of the fields they were built
    from, so it stands for the whole material as a key (grounding memoises on it)."""

    name: str = field(compare=False)
    sentences: tuple[Sentence, ...] = field(compare=False)
    facts: Facts = field(compare=False, repr=False)
    digest: str = field(repr=False)
    _by_id: dict[str, Sentence] = field(default_factory=dict, compare=False, repr=False)
    origins: Mapping[str, tuple[str, datetime | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        self._by_id.update((s.id, s) for s in self.sentences)

    def get(self, sentence_id: str) -> Sentence | None:
        return self._by_id.get(sentence_id)

    def evidence(self, sentence: Sentence) -> Evidence:
        """A sentence as a claim's evidence: with the page it was read from and when, for
        sources `panel intake` fetched."""
        url, fetched_at = self.origins.get(sentence.source, ("", None))
        return Evidence(
            id=sentence.id, sentence=sentence.text, source=sentence.source, url=url, fetched_at=fetched_at
        )

    def numbered(self) -> str:
        """One 's3 [pricing.detail] text' line per sentence, for the model pass's prompt."""
        return "\n".join(f"{s.id} [{s.source}] {s.text}" for s in self.sentences)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sentences)

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(id, source, text) per sentence: what the model pass is shown, and keyed on."""
        return [(s.id, s.source, s.text) for s in self.sentences]


@dataclass(frozen=True)
class _Block:
    text: str
    kind: str = "text"  # text, heading, code (a fenced block) or row (a table row)
    level: int = 0  # a heading's level: 1 for '#'
    header: tuple[str, ...] = ()  # a table row's column headers


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


class _Reader:
    """Blocks of one field, line by line: paragraphs, headings, fenced code and table rows."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.lines: list[str] = []
        self.code: list[str] | None = None

    def flush(self) -> None:
        if self.lines:
            self.blocks.append(_Block(" ".join(self.lines)))
            self.lines = []

    def fenced(self, line: str) -> bool:
        """Inside a fenced block (or at its fence): kept whole, up to the closing fence."""
        if self.code is None and not line.startswith(_FENCE):
            return False
        if self.code is None:
            self.flush()
            self.code = []
        elif line.startswith(_FENCE):
            self.blocks.append(_Block(" ".join(self.code), "code"))
            self.code = None
        elif line:
            self.code.append(line)
        return True

    def row(self, line: str) -> None:
        self.flush()
        if _TABLE_RULE.match(line):
            return
        previous = self.blocks[-1] if self.blocks else None
        header = previous.header if previous and previous.kind == "row" else _cells(line)
        self.blocks.append(_Block(line, "row", header=header))

    def line(self, raw: str) -> None:
        line = raw.strip()
        if self.fenced(line):
            return
        if line.startswith("|"):
            self.row(line)
        elif not line or _NEW_BLOCK.match(line):
            self.flush()
            heading = _HEADING.match(line)
            if heading:
                self.blocks.append(_Block(line, "heading", len(heading.group(1))))
            elif line:
                self.lines.append(line)
        else:
            self.lines.append(line)

    def done(self) -> list[_Block]:
        self.flush()
        if self.code:
            self.blocks.append(_Block(" ".join(self.code), "code"))
        return self.blocks


def _blocks(text: str) -> list[_Block]:
    """Paragraphs of a field: blank lines, headings, list items and table rows start a new block,
    so a README's bullets are not run together into one sentence. A fenced code block is one
    block; a table's rule row is dropped and each row keeps the header row's cells."""
    reader = _Reader()
    for raw in text.splitlines():
        reader.line(raw)
    return reader.done()


def _clean(text: str) -> str:
    return _MARKER.sub("", _SPACE.sub(" ", _EMPHASIS.sub("", text)).strip()).strip()


@lru_cache(maxsize=4096)
def _split(block: str) -> tuple[str, ...]:
    """Sentences of one block, whitespace collapsed and list, heading and bold markers dropped."""
    if _ONE_SENTENCE.fullmatch(block) and "  " not in block:
        pieces = [block]  # what pysbd returns for it, in a microsecond rather than half a millisecond
    else:
        pieces = pysbd.Segmenter(language="en", clean=False).segment(block)
    return tuple(text for text in (_clean(piece) for piece in pieces) if text)


def _pieces(block: _Block) -> tuple[str, ...]:
    """A command, a table row or a heading is one sentence; a paragraph is split."""
    if block.kind in ("code", "row"):
        return (_SPACE.sub(" ", block.text).strip(),)
    if block.kind == "heading":
        return (_clean(block.text),)
    return _split(block.text)


def _placed(source: str, text: str) -> list[tuple[str, Placement]]:
    """The sentences of one field or source, each with where it sits: under which headings, in
    a code block or in a table row."""
    if source in _WHOLE:
        return [(_SPACE.sub(" ", text).strip(), Placement())]
    out: list[tuple[str, Placement]] = []
    path: list[tuple[int, str]] = []  # the open headings, outermost first
    for block in _blocks(text):
        pieces = [p for p in _pieces(block) if p]
        place = Placement(tuple(h for _, h in path), block.kind == "code", block.header)
        if block.kind == "heading" and pieces:
            path = [(lvl, h) for lvl, h in path if lvl < block.level] + [(block.level, pieces[0])]
        out += [(piece, place) for piece in pieces]
    return out


def _parts(tool: Tool) -> tuple[tuple[str, str], ...]:
    parts = [
        ("name", tool.name),
        ("tagline", tool.tagline),
        ("category", tool.category),
        ("pricing.entry", tool.pricing.entry),
        ("pricing.detail", tool.pricing.detail),
        ("url", tool.url),
        ("description", tool.description),
    ]
    parts += [(f"source: {s.title}", s.text) for s in tool.sources]
    return tuple((src, text) for src, text in parts if text.strip())


def _origins(tool: Tool) -> Origins:
    return tuple(
        (f"source: {s.title}", s.final_url or s.url, s.fetched_at) for s in tool.sources if s.fetched_at
    )


@lru_cache(maxsize=MATERIAL_CACHE)
def _build(parts: tuple[tuple[str, str], ...], origins: Origins = ()) -> Material:
    sentences: list[Sentence] = []
    places: list[Placement] = []
    for source, text in parts:
        for piece, place in _placed(source, text):
            sentences.append(Sentence(f"s{len(sentences) + 1}", piece, source))
            places.append(place)
    name = parts[0][1] if parts and parts[0][0] == "name" else ""
    return Material(
        name=name,
        sentences=tuple(sentences),
        facts=extract_facts(name, tuple(sentences), tuple(places)),
        digest=_digest(parts, origins),
        origins={label: (url, at) for label, url, at in reversed(origins)},  # the first title wins
    )


def _digest(parts: tuple[tuple[str, str], ...], origins: Origins) -> str:
    """A digest of the fields a material is built from (a lone surrogate in a field included) and
    of where its fetched sources came from and when (a claim's evidence names them)."""
    where = [(label, url, at.isoformat() if at else None) for label, url, at in origins]
    data = json.dumps([parts, where], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def material_for(tool: Tool) -> Material:
    """The tool's material; the same object for the same tool content (cached)."""
    return _build(_parts(tool), _origins(tool))
