"""The facts of a tool's material, read once when the material is built (and cached with it):
its prices, free/paid statements, licenses, dates, versions, figures and names, each tied to the
sentence it came from, so a claim's evidence is that sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.grounding.figures import Figure, figures
from panel.grounding.kinds import Date, License, Version, dates, licenses, version_near, versions
from panel.grounding.names import find_names, normalise
from panel.grounding.prices import Money, clause_context, entry_is_free, free_statements, prices
from panel.grounding.spans import Layout, Sentence


@dataclass(frozen=True)
class PriceFact:
    sentence: int  # index into Material.sentences
    money: Money
    context: frozenset[str]


@dataclass(frozen=True)
class FreeFact:
    sentence: int
    free: bool  # True: something is free; False: no free tier, paid only
    trial: bool
    entry: bool  # from the one-word pricing entry, weaker than a sentence that says so


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


def extract_facts(tool: str, sentences: tuple[Sentence, ...]) -> Facts:
    price_facts: list[PriceFact] = []
    free_facts: list[FreeFact] = []
    lic_facts: list[tuple[int, License]] = []
    date_facts: list[tuple[int, Date, tuple[int, ...] | None]] = []
    version_facts: list[tuple[int, Version]] = []
    figure_facts: list[tuple[int, Figure]] = []
    names: dict[str, int] = {}
    known: set[str] = set()
    for i, sentence in enumerate(sentences):
        text = sentence.text
        if sentence.source == "url":
            continue
        if sentence.source == "name":
            names.setdefault(normalise(text), i)
            known.add(text.casefold())
            continue
        if sentence.source == "pricing.entry":
            free, lics = _entry_facts(i, text.lower())
            free_facts += free
            lic_facts += lics
            continue
        layout = Layout.of(text, [(0, len(text))])
        lics = licenses(text, layout)
        money = prices(text)
        frees = free_statements(text, layout)
        found_dates = dates(text, layout)
        taken = [(x.start, x.end) for x in [*lics, *money, *found_dates]]
        if sentence.source == "category":
            continue
        found_names = find_names(text, layout, strict_starts=False, skip=taken)
        strict = find_names(text, layout, strict_starts=True, skip=taken)
        vers = versions(text, layout, [(n.start, n.end, n.text) for n in found_names], taken)
        taken += [(n.start, n.end) for n in found_names] + [(v.start, v.end) for v in vers]
        lic_facts += [(i, x) for x in lics if not x.negated]
        price_facts += [PriceFact(i, m, clause_context(text, layout, m.start, m.end)) for m in money]
        free_facts += [FreeFact(i, not f.negated, f.trial, False) for f in frees]
        date_facts += [(i, d, version_near(text, vers, d.start, d.end)) for d in found_dates]
        version_facts += [(i, v) for v in vers]
        figure_facts += [(i, f) for f in figures(text, layout, taken)]
        for n in found_names:
            names.setdefault(normalise(n.text), i)
        known.update(n.text.casefold() for n in strict)
    return Facts(
        tool=tool,
        prices=tuple(price_facts),
        free=tuple(free_facts),
        licenses=tuple(lic_facts),
        dates=tuple(date_facts),
        versions=tuple(version_facts),
        figures=tuple(figure_facts),
        names=names,
        known=frozenset(known),
        texts=tuple(s.text for s in sentences),
    )
