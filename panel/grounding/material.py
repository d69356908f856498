"""The material a review is checked against: the tool's own fields and its sources, split into
sentences with stable ids (s1, s2, ...), plus the facts the rules layer reads from them.

The ids are cited by the model pass under constrained decoding, so the order is fixed: name,
tagline, category, pricing.entry, pricing.detail, url, description, then each source in order.
Building a material splits every field with pysbd (about half a millisecond per sentence), so it is
cached per tool content: a record's reviews, saves and re-checks reuse one material.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import pysbd

from panel.grounding.facts import Facts, extract_facts
from panel.grounding.spans import Sentence
from panel.records import Evidence, Tool

# Where a fetched source was read, by its material label: (address, time read).
Origins = tuple[tuple[str, str, datetime | None], ...]

# Fields kept whole: splitting a name, category, pricing entry or URL on dots would break them.
_WHOLE = frozenset({"name", "category", "pricing.entry", "url"})
_MARKER = re.compile(r"^(?:#{1,6}\s+|[-*+•]\s+|\d{1,3}[.)]\s+|>\s*)")
_NEW_BLOCK = re.compile(r"^(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>|\|)")
_SPACE = re.compile(r"\s+")
MATERIAL_CACHE = 256


@dataclass(frozen=True)
class Material:
    """A tool's material: numbered sentences, and the facts the rules layer extracted from them."""

    name: str
    sentences: tuple[Sentence, ...]
    facts: Facts = field(compare=False, repr=False)
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


def _blocks(text: str) -> list[str]:
    """Paragraphs of a field: blank lines, headings, list items and table rows start a new block,
    so a README's bullets are not run together into one sentence."""
    blocks: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _NEW_BLOCK.match(line):
            if current:
                blocks.append(" ".join(current))
            current = [line] if line else []
            if line.startswith("#"):
                blocks.append(line)
                current = []
            continue
        current.append(line)
    if current:
        blocks.append(" ".join(current))
    return blocks


@lru_cache(maxsize=4096)
def _split(block: str) -> tuple[str, ...]:
    """Sentences of one block, whitespace collapsed and list or heading markers dropped."""
    segmenter = pysbd.Segmenter(language="en", clean=False)
    out = []
    for piece in segmenter.segment(block):
        text = _MARKER.sub("", _SPACE.sub(" ", piece).strip()).strip()
        if text:
            out.append(text)
    return tuple(out)


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
    for source, text in parts:
        if source in _WHOLE:
            pieces: tuple[str, ...] = (_SPACE.sub(" ", text).strip(),)
        else:
            pieces = tuple(p for block in _blocks(text) for p in _split(block))
        for piece in pieces:
            sentences.append(Sentence(f"s{len(sentences) + 1}", piece, source))
    name = parts[0][1] if parts and parts[0][0] == "name" else ""
    return Material(
        name=name,
        sentences=tuple(sentences),
        facts=extract_facts(name, tuple(sentences)),
        origins={label: (url, at) for label, url, at in reversed(origins)},  # the first title wins
    )


def material_for(tool: Tool) -> Material:
    """The tool's material; the same object for the same tool content (cached)."""
    return _build(_parts(tool), _origins(tool))
