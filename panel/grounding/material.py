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
from dataclasses import dataclass, field
from functools import lru_cache

import pysbd

from panel.grounding.facts import Facts, extract_facts
from panel.grounding.spans import Sentence
from panel.records import Tool

# Fields kept whole: splitting a name, category, pricing entry or URL on dots would break them.
_WHOLE = frozenset({"name", "category", "pricing.entry", "url"})
_MARKER = re.compile(r"^(?:#{1,6}\s+|[-*+•]\s+|\d{1,3}[.)]\s+|>\s*)")
_NEW_BLOCK = re.compile(r"^(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>|\|)")
_SPACE = re.compile(r"\s+")
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

    def __post_init__(self) -> None:
        self._by_id.update((s.id, s) for s in self.sentences)

    def get(self, sentence_id: str) -> Sentence | None:
        return self._by_id.get(sentence_id)

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
    if _ONE_SENTENCE.fullmatch(block) and "  " not in block:
        pieces = [block]  # what pysbd returns for it, in a microsecond rather than half a millisecond
    else:
        pieces = pysbd.Segmenter(language="en", clean=False).segment(block)
    out = []
    for piece in pieces:
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


@lru_cache(maxsize=MATERIAL_CACHE)
def _build(parts: tuple[tuple[str, str], ...]) -> Material:
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
        digest=_digest(parts),
    )


def _digest(parts: tuple[tuple[str, str], ...]) -> str:
    """A digest of the fields a material is built from (a lone surrogate in a field included)."""
    data = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def material_for(tool: Tool) -> Material:
    """The tool's material; the same object for the same tool content (cached)."""
    return _build(_parts(tool))
