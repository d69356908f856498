"""The rules layer of grounding: the specifics a review states (prices, licenses, figures, dates,
versions, names), each checked against the material's facts. Deterministic and model-free; fast
enough to run on every save (see bench/claims.py).

Statuses: supported when the material says so, contradicted when it gives a different value for
the same subject (judge.py says what that is, kind by kind), unsupported otherwise. Feature
claims ("supports SSO") are left to the model pass, which grounding.merge_claims adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property

from rapidfuzz import fuzz, process

from panel.grounding.facts import Facts
from panel.grounding.figures import figures
from panel.grounding.judge import (
    UNSUPPORTED,
    date_verdict,
    derived_total,
    figure_verdict,
    free_verdict,
    license_verdict,
    money_verdict,
    version_verdict,
)
from panel.grounding.kinds import Version, dates, version_near, versions
from panel.grounding.licenses import License, licenses
from panel.grounding.material import Material
from panel.grounding.names import Name, find_names, normalise
from panel.grounding.prices import Free, Money, clause_context, free_statements, plans, prices
from panel.grounding.spans import Layout, Number, Span, has_word, numbers, spans_of
from panel.records import MAX_CLAIM_CHARS, Claim, ClaimKind, ClaimStatus

NAME_MATCH = 90  # rapidfuzz ratio at which two spellings are the same name
_OTHER_SUBJECT = re.compile(
    r"\b(?:competitors?|rivals?|incumbents?|alternatives?|workarounds?|(?:a|another|other|hosted)\s+"
    r"(?:\w+\s+)?vendors?)\b",
    re.I,
)
_HYPOTHETICAL = re.compile(r"\b(?:would|could|might|if|can)\b", re.I)
_BACK_REFERENCE = re.compile(r"\b(?:ones?|they|them|theirs?|both|these|those|the latter|the former)\b", re.I)
_CODE = re.compile(r"`[^`\n]*`")
# the longest span a Claim takes, read from the record type rather than written twice
NameEvidence = tuple[Name, int | None]  # a name found in the review, and the sentence that names it


@dataclass
class _Found:
    start: int
    end: int
    kind: ClaimKind
    status: ClaimStatus
    evidence: int | None = None  # index of the material sentence


class _Review:
    """One review read against one material: the mentions found, and how each stands."""

    def __init__(self, text: str, material: Material) -> None:
        self.text = text
        self.material = material
        self.facts: Facts = material.facts
        self.layout = Layout.of(text)
        self.numbers = numbers(text)
        self.bounds = [(n.start, n.end) for n in self.numbers]
        self.tool = normalise(self.facts.tool)
        self.money_spans: list[Span] = []
        self.spent: list[Span] = []  # counts used to work out a total
        self._evidence: dict[str, int | None] = {}
        tool = self.facts.tool
        self.tool_re = re.compile(rf"(?<![\w]){re.escape(tool)}(?![\w])", re.I) if tool.strip() else None
        self.subjects = {v.subject.casefold(): v.subject for _, v in self.facts.versions if v.subject}

    def with_subject(self, version: Version) -> Version:
        """'python 3.10+' in a lower-case review: the word before a bare version names its subject
        when the material gives versions of that product."""
        if version.subject is not None:
            return version
        word = re.search(r"([A-Za-z][\w.+-]*)\s+v?$", self.text[: version.start])
        subject = self.subjects.get(word.group(1).casefold()) if word else None
        return replace(version, subject=subject) if subject else version

    # --- names ---------------------------------------------------------------------------------

    def name_evidence(self, name: str) -> int | None:
        """The material sentence that names it, or None: the tool's own name, the same words in
        the material, or a spelling that differs only in case or a letter or two."""
        if name in self._evidence:
            return self._evidence[name]
        self._evidence[name] = found = self._name_evidence(name)
        return found

    def _name_evidence(self, name: str) -> int | None:
        norm, facts = normalise(name), self.facts
        if not norm:
            return None
        lead = facts.tool.casefold().split()[0] if facts.tool else ""
        if norm == self.tool or fuzz.ratio(norm, self.tool) >= NAME_MATCH or name.casefold() == lead:
            return facts.names.get(self.tool, 0)
        for i, text in self._named_sentences:
            if has_word(text, name):
                return i
        if norm in facts.names:
            return facts.names[norm]
        best = process.extractOne(norm, list(facts.names), scorer=fuzz.ratio, score_cutoff=NAME_MATCH)
        return facts.names[best[0]] if best else None

    @cached_property
    def _named_sentences(self) -> list[tuple[int, str]]:
        """The material's sentences a name may be found in (not the URL or category), by number;
        the tool's own name blanked where it is several words: 'Forms' inside 'Marlin Forms' is a
        piece of the tool's name, not a name of its own. Built once per review, not per name."""
        blank = self.tool_re if self.tool_re and " " in self.facts.tool else None
        return [
            (i, blank.sub(" ", s.text) if blank else s.text)
            for i, s in enumerate(self.material.sentences)
            if s.source not in ("url", "category")
        ]

    def is_tool(self, name: str) -> bool:
        """The tool, or a product of its own family: 'Driftwood Cloud' for Driftwood."""
        norm = normalise(name)
        return (
            norm == self.tool
            or (bool(self.tool) and norm.startswith(self.tool))
            or (self.name_evidence(name) == self.facts.names.get(self.tool))
        )

    def known(self, word: str) -> bool:
        """The material names it: a capitalised word opening a review sentence is then a name."""
        return word.casefold() in self.facts.known or self.is_tool(word)

    def names(self, skip: list[Span]) -> list[NameEvidence]:
        found = find_names(self.text, self.layout, known=self.known, skip=skip)
        if self.tool_re:  # the tool's own name in any case, even in a hand-typed lower-case review
            taken = [(n.start, n.end) for n in found]
            for m in self.tool_re.finditer(self.text):
                if not any(s < m.end() and m.start() < e for s, e in taken + skip):
                    found.append(Name(m.start(), m.end(), m.group()))
        return [(n, self.name_evidence(n.text)) for n in sorted(found, key=lambda n: n.start)]

    def about_other(self, pos: int, names: list[NameEvidence]) -> str | None:
        """Whom a specific is about, when not the tool: 'name' for another product ('Doppler's
        plan runs $21', 'Squawk lints for free', 'the last one costs nothing' after a list of
        rivals), 'generic' for 'a hosted vendor', 'a workaround'. Only a name the material does
        not know, or a possessive one, makes another subject: 'Linux minutes cost $0.008' and
        'Kestrel Labs began in 2023' are about the tool."""
        cs, ce = self.layout.clause_at(pos)

        def others(start: int, end: int) -> list[Name]:
            return [
                n
                for n, ev in names
                if start <= n.start < end
                and not self.is_tool(n.text)
                and (ev is None or self.text[n.end : n.end + 2] in ("'s", "’s"))
            ]

        if others(cs, pos):
            return "name"
        ss, se = self.layout.sentence_at(pos)
        tool_named = any(self.is_tool(n.text) for n, _ in names if ss <= n.start < se)
        if _BACK_REFERENCE.search(self.text, cs, pos) and not tool_named and others(ss, pos):
            return "name"
        if _OTHER_SUBJECT.search(self.text, cs, ce):
            return "generic"
        return None

    # --- prices --------------------------------------------------------------------------------

    def _price_clause(self, start: int, end: int) -> Span:
        """A price's clause, but not past the neighbouring numbers."""
        cs, ce = self.layout.clause_at(start)
        lo = max([cs, *(e for s, e in self.bounds if e <= start)])
        hi = min([ce, *(s for s, e in self.bounds if s >= end)])
        return lo, max(hi, end)

    def price_context(self, start: int, end: int) -> frozenset[str]:
        """Words about what is priced, from the clause but not past the neighbouring numbers."""
        lo, hi = self._price_clause(start, end)
        return clause_context(self.text[:hi], Layout(self.text[:hi], ((lo, hi),), ((lo, hi),)), start, end)

    def price_plans(self, start: int, end: int) -> frozenset[str]:
        """The plan or edition a price or free statement is said of ('the Pro plan at $149'),
        from its clause, else from the sentence since the previous price ('Driftwood Cloud,
        which keeps a history, costs €12')."""
        lo, hi = self._price_clause(start, end)
        ss, _ = self.layout.sentence_at(start)
        back = max([ss, *(e for s, e in self.money_spans if e <= start)])
        return plans(self.text[lo:hi]) or plans(self.text[back:hi])

    def counts_near(self, money: Money) -> list[Number]:
        """The numbers of a price's sentence that are not prices: what a total may be made of."""
        ss, se = self.layout.sentence_at(money.start)
        return [
            n
            for n in self.numbers
            if ss <= n.start < se and not any(s <= n.start < e for s, e in self.money_spans)
        ]

    def free_words(self, free: Free) -> frozenset[str]:
        return frozenset(
            re.findall(r"[a-z]+", self.text[free.start : free.end].lower())
        ) | self.price_context(free.start, free.end)


def _inside(pos: int, spans: list[Span]) -> bool:
    return any(s <= pos < e for s, e in spans)


def _first_per_text(found: Iterable[_Found], text: str) -> list[_Found]:
    """One claim per kind and text: a name said three times is one claim."""
    seen: set[tuple[str, str]] = set()
    out = []
    for f in sorted(found, key=lambda f: (f.start, f.kind)):
        key = (f.kind, text[f.start : f.end].strip().lower())
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _price_claims(
    r: _Review, money: list[Money], frees: list[Free], names: list[NameEvidence]
) -> list[_Found]:
    """Amounts and free/paid statements. A total worked out from the material's unit price is
    supported, and its count ('40 people') is spent: it is arithmetic, not a figure."""
    found = []
    for m in money:
        if r.about_other(m.start, names):
            found.append(_Found(m.start, m.end, "price", "unsupported"))
            continue
        verdict = money_verdict(r.facts, m, r.price_context(m.start, m.end), r.price_plans(m.start, m.end))

        plan = r.price_plans(m.start, m.end)
        derived = (
            derived_total(r.facts, r.text, m, r.counts_near(m), plan) if verdict[0] != "supported" else None
        )
        if derived:
            fact, counts = derived
            r.spent += counts
            verdict = ("supported", fact.sentence)
        elif _HYPOTHETICAL.search(r.text, *r.layout.clause_at(m.start)):
            continue  # "our twenty pipelines would come to ..." with nothing to work it out from
        found.append(_Found(m.start, m.end, "price", *verdict))
    for f in frees:
        if _HYPOTHETICAL.search(r.text, *r.layout.clause_at(f.start)):
            continue  # "Stripe can bundle its version for free", "a free tier would help"
        other = r.about_other(f.start, names)
        if other == "generic":
            continue  # "a workaround that is free" says nothing about any product
        plan = r.price_plans(f.start, f.end)
        verdict = UNSUPPORTED if other else free_verdict(r.facts, f, r.free_words(f), plan)
        found.append(_Found(f.start, f.end, "price", *verdict))
    return found


def _license_claims(r: _Review, lics: list[License], names: list[NameEvidence]) -> list[_Found]:
    found = []
    named = [x for x in lics if x.kind == "spdx"]
    for lic in lics:
        if lic.kind != "spdx" and lic.negated and any(0 <= lic.start - n.end <= 40 for n in named):
            continue  # "the Business Source License, which is not open source" is about that license
        verdict = UNSUPPORTED if r.about_other(lic.start, names) else license_verdict(r.facts, lic)
        found.append(_Found(lic.start, lic.end, "license", *verdict))
    return found


def rules_claims(review: str, material: Material) -> list[Claim]:
    """The claims the rules find in a review, each checked against the material (origin 'rules')."""
    r = _Review(review, material)
    text, layout, facts = review, r.layout, r.facts

    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]  # `burrow init` is a command, not prose
    lics = [x for x in licenses(text, layout) if not _inside(x.start, code)]
    money = [x for x in prices(text) if not _inside(x.start, code)]
    r.money_spans = [(m.start, m.end) for m in money]
    frees = [x for x in free_statements(text, layout) if not _inside(x.start, code)]
    found_dates = [x for x in dates(text, layout) if not _inside(x.start, code)]
    taken = code + spans_of(lics, money, found_dates)
    names = r.names(skip=taken)
    spans = [(n.start, n.end, n.text) for n, _ in names]
    vers = [r.with_subject(v) for v in versions(text, layout, spans, taken)]

    found = [
        _Found(n.start, n.end, "name", "unsupported" if ev is None else "supported", ev) for n, ev in names
    ]
    found += _price_claims(r, money, frees, names)
    found += _license_claims(r, lics, names)
    for d in found_dates:
        anchor = version_near(text, vers, d.start, d.end)
        verdict = UNSUPPORTED if r.about_other(d.start, names) else date_verdict(facts, d, anchor)
        found.append(_Found(d.start, d.end, "date", *verdict))
    found += [_Found(v.start, v.end, "version", *version_verdict(facts, v)) for v in vers]
    taken += [(n.start, n.end) for n, _ in names] + [(v.start, v.end) for v in vers] + r.spent
    for fig in figures(text, layout, taken):
        figure = UNSUPPORTED if r.about_other(fig.start, names) else figure_verdict(facts, fig)
        if figure is not None:
            found.append(_Found(fig.start, fig.end, "figure", *figure))

    claims = []
    for f in _first_per_text(found, text):
        span = text[f.start : f.end].strip()
        if not span or len(span) > MAX_CLAIM_CHARS:
            continue
        s = material.sentences[f.evidence] if f.status != "unsupported" and f.evidence is not None else None
        evidence = material.evidence(s) if s else None
        claims.append(
            Claim(text=span, kind=f.kind, status=f.status if s else "unsupported", evidence=evidence)
        )
    return claims
