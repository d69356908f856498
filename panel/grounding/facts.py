"""The facts of a tool's material, read once when the material is built (and cached with it):
its prices, free/paid statements, licenses, dates, versions, figures and names, each tied to the
sentence it came from, so a claim's evidence is that sentence.

Each fact keeps its subject, so that a claim is only refuted by a fact about the same thing: the
plan or edition a price is for, the parts of the product a license covers, the feature a version
brought, what a figure measures. Where a sentence sits adds to it: the headings above it (a
pricing page's '## Team', a changelog's '## 1.6.0'), its table column, and whether it is a code
block (commands and sample output, which state nothing) or a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from panel.grounding.figures import Figure, figures
from panel.grounding.kinds import Date, Version, dates, version_near, version_topic, versions
from panel.grounding.licenses import License, components, licenses
from panel.grounding.names import find_names, normalise
from panel.grounding.prices import (
    PERSON_UNITS,
    Free,
    Money,
    clause_context,
    entry_is_free,
    free_statements,
    plans,
    prices,
)
from panel.grounding.spans import Layout, Sentence, context_words, spans_of


@dataclass(frozen=True)
class Placement:
    """Where a material sentence sits in its field or source."""

    headings: tuple[str, ...] = ()  # the headings above it, outermost first
    code: bool = False  # in a fenced code block
    header: tuple[str, ...] = ()  # a table row's column headers (the row itself when it is the header)


@dataclass(frozen=True)
class PriceFact:
    sentence: int  # index into Material.sentences
    money: Money
    context: frozenset[str]
    plans: frozenset[str] = frozenset()  # the plan or edition it is the price of; empty: the tool's


@dataclass(frozen=True)
class FreeFact:
    sentence: int
    free: bool  # True: something is free; False: no free tier, paid only
    trial: bool
    entry: bool  # from the one-word pricing entry, weaker than a sentence that says so
    plans: frozenset[str] = frozenset()  # what is free ('free to self-host'); empty: the tool
    every: bool = False  # 'there is no paid tier': nothing is sold


@dataclass(frozen=True)
class Facts:
    tool: str
    prices: tuple[PriceFact, ...]
    free: tuple[FreeFact, ...]
    licenses: tuple[tuple[int, License], ...]
    dates: tuple[tuple[int, Date, tuple[int, ...] | None], ...]  # with the version it dates
    versions: tuple[tuple[int, Version], ...]
    figures: tuple[tuple[int, Figure], ...]
    names: dict[str, int]  # normalised name -> first sentence that mentions it
    known: frozenset[str]  # names seen with a sign of being names (see claim_names); casefolded
    texts: tuple[str, ...]  # the sentences, for exact-case name lookups


def _entry_facts(index: int, entry: str) -> tuple[list[FreeFact], list[tuple[int, License]]]:
    """The pricing entry is one word: 'free', 'freemium', 'open-source', 'paid'."""
    free, lics = [], []
    says = entry_is_free(entry)
    if says is not None:
        free.append(FreeFact(index, says, False, True))
    if "open" in entry or "oss" in entry:
        lics.append((index, License(0, len(entry), "open", None, None, True, False)))
    return free, lics


# --- where a sentence sits -----------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _heading_version(heading: str) -> Version | None:
    """The tool's version a changelog heading names: '1.6.0 (2024-11-19)', 'v2.1 — May 2025'."""
    found = [
        v for v in versions(heading, Layout.of(heading, [(0, len(heading))]), [], []) if v.subject is None
    ]
    return found[0] if found else None


@lru_cache(maxsize=1024)
def _heading_plans(heading: str) -> frozenset[str]:
    return plans(heading)


def _cell(text: str, pos: int, header: tuple[str, ...]) -> tuple[str, str]:
    """A table cell's column header and the row's first cell: what a price or figure in the cell
    is about ('| Price per seat per month | $19 | $45 |' under '| | Starter | Growth |')."""
    column = text.count("|", 0, pos) - (1 if text.lstrip().startswith("|") else 0)
    label = text.strip().strip("|").split("|")[0]
    return (header[column] if 0 <= column < len(header) else ""), label


@dataclass
class _Found:
    """The facts gathered so far, sentence by sentence."""

    prices: list[PriceFact] = field(default_factory=list)
    free: list[FreeFact] = field(default_factory=list)
    licenses: list[tuple[int, License]] = field(default_factory=list)
    dates: list[tuple[int, Date, tuple[int, ...] | None]] = field(default_factory=list)
    versions: list[tuple[int, Version]] = field(default_factory=list)
    figures: list[tuple[int, Figure]] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)


class _Sentence:
    """One material sentence read with its placement."""

    def __init__(self, index: int, text: str, place: Placement) -> None:
        self.i, self.text, self.place = index, text, place
        self.layout = Layout.of(text, [(0, len(text))])
        self.plans = frozenset().union(*(_heading_plans(h) for h in place.headings))
        self.parts = frozenset().union(*(components(h) for h in place.headings))

    def cell(self, pos: int) -> str:
        return " ".join(_cell(self.text, pos, self.place.header)) if self.place.header else ""

    def plans_at(self, start: int, before: list[Money]) -> frozenset[str]:
        """The plan or edition named by a price's clause, else by its sentence since the previous
        price; by its table column, whose header is the plan's name ('| | Solo | Studio |'); and
        by the headings above it ('## Team')."""
        cs, ce = self.layout.clause_at(start)
        back = max([0, *(m.end for m in before if m.end <= start)])
        named = plans(self.text[cs:ce]) or plans(self.text[back:ce])
        column = _cell(self.text, start, self.place.header)[0] if self.place.header else ""
        titled = {w.lower() for w in re.findall(r"[A-Z][\w-]*", column)}
        return named | plans(column) | frozenset(titled) | self.plans

    def price(self, m: Money, money: list[Money]) -> PriceFact:
        cell = self.cell(m.start)
        context = clause_context(self.text, self.layout, m.start, m.end) | context_words(cell)
        context |= frozenset(w for h in self.place.headings for w in context_words(h))
        return PriceFact(self.i, m, context, self.plans_at(m.start, money))

    def figure(self, f: Figure) -> Figure:
        cell = self.cell(f.start)
        return replace(f, context=f.context | context_words(cell)) if cell else f

    def release(self, found: list[Version], seen: dict[str, int]) -> list[tuple[int, Version]]:
        """A changelog entry: a sentence without a version of the tool's own, under a heading
        that names one, is what that version brought; the heading is its evidence."""
        if any(v.subject is None for v in found):
            return []
        for heading in reversed(self.place.headings):
            version = _heading_version(heading)
            topic = version_topic(self.text)
            if version is not None and topic and heading in seen:
                return [(seen[heading], replace(version, start=0, end=0, topic=topic, latest=False))]
        return []


def _read(found: _Found, s: _Sentence, seen: dict[str, int]) -> None:
    """Every fact of one sentence of prose."""
    text, layout, i = s.text, s.layout, s.i
    lics = licenses(text, layout)
    money = prices(text)
    frees = free_statements(text, layout)
    found_dates = dates(text, layout)
    taken = spans_of(lics, money, found_dates)
    found_names = find_names(text, layout, strict_starts=False, skip=taken)
    strict = find_names(text, layout, strict_starts=True, skip=taken)
    vers = versions(text, layout, [(n.start, n.end, n.text) for n in found_names], taken)
    taken += [(n.start, n.end) for n in found_names] + [(v.start, v.end) for v in vers]
    found.licenses += [(i, replace(x, component=x.component | s.parts)) for x in lics if _stated(x)]
    found.prices += [s.price(m, money) for m in money]
    found.free += [_free_fact(s, f, money) for f in frees]
    found.dates += [(i, d, version_near(text, vers, d.start, d.end)) for d in found_dates]
    found.versions += [(i, v) for v in vers] + s.release(vers, seen)
    found.figures += [(i, s.figure(f)) for f in figures(text, layout, taken)]
    for n in found_names:
        found.names.setdefault(normalise(n.text), i)
    found.known.update(n.text.casefold() for n in strict)


def _stated(lic: License) -> bool:
    """A license the material states: not a negated one ('it is not MIT'), except that 'not open
    source' states that it is not open (kept as an open-source mention that is not open)."""
    return not lic.negated or lic.kind == "open"


def _free_fact(s: _Sentence, f: Free, money: list[Money]) -> FreeFact:
    """What is free: the plan or edition named, or the kind of user it is free for ('agents who
    only read conversations are free', 'free for up to 3 users')."""
    cs, ce = s.layout.clause_at(f.start)
    users = {w for w in re.findall(r"[a-z]+", s.text[cs:ce].lower()) if w in PERSON_UNITS}
    return FreeFact(s.i, not f.negated, f.trial, False, s.plans_at(f.start, money) | users, f.every)


def _unstated(lic: License) -> License:
    """'not open source' as a fact: an open-source mention whose product is not open."""
    return replace(lic, is_open=False, negated=False) if lic.negated else lic


def extract_facts(
    tool: str, sentences: tuple[Sentence, ...], places: tuple[Placement, ...] | None = None
) -> Facts:
    found = _Found()
    where = places if places is not None else tuple(Placement() for _ in sentences)
    seen: dict[str, int] = {}  # the latest sentence of each text in the current source: headings
    source = ""
    for i, (sentence, place) in enumerate(zip(sentences, where, strict=True)):
        text = sentence.text
        if sentence.source != source:
            seen, source = {}, sentence.source
        seen[text] = i
        if sentence.source == "url" or place.code or text.rstrip("*_ ").endswith("?"):
            continue  # an address, a command or sample output, a question: nothing stated
        if sentence.source == "name":
            found.names.setdefault(normalise(text), i)
            found.known.add(text.casefold())
        elif sentence.source == "pricing.entry":
            free, lics = _entry_facts(i, text.lower())
            found.free += free
            found.licenses += lics
        elif sentence.source != "category":
            _read(found, _Sentence(i, text, place), seen)
    return Facts(
        tool=tool,
        prices=tuple(found.prices),
        free=tuple(found.free),
        licenses=tuple((i, _unstated(x)) for i, x in found.licenses),
        dates=tuple(found.dates),
        versions=tuple(found.versions),
        figures=tuple(found.figures),
        names=found.names,
        known=frozenset(found.known),
        texts=tuple(s.text for s in sentences),
    )
