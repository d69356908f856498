"""How one specific stands against the material's facts: supported, contradicted or unsupported,
and the material sentence it rests on or conflicts with.

The issue's rule, kind by kind: a specific that matches the material is supported; one that
matches nothing is contradicted when the material states something of the same kind (a price,
a license, a figure of the same quantity about the same thing, a date of the same event, a
version of the same product) and unsupported when it states nothing.
"""

from __future__ import annotations

import re

from panel.grounding.facts import Facts, FreeFact, PriceFact
from panel.grounding.figures import Figure
from panel.grounding.kinds import Date, License, Version
from panel.grounding.names import normalise
from panel.grounding.prices import Free, Money
from panel.grounding.spans import Number, Span
from panel.records import ClaimStatus

Verdict = tuple[ClaimStatus, int | None]  # the status and the index of the evidence sentence
_SIZE_TO_GB = {"tb": 1000.0, "gb": 1.0, "mb": 0.001}
UNSUPPORTED: Verdict = ("unsupported", None)


# --- prices ------------------------------------------------------------------------------------


def _same_price(money: Money, fact: PriceFact) -> bool:
    unit = fact.money
    same_currency = not money.currency or not unit.currency or money.currency == unit.currency
    periods = {money.period, unit.period} - {None}
    return same_currency and unit.amount == money.amount and len(periods) <= 1


def money_verdict(facts: Facts, money: Money, context: frozenset[str]) -> Verdict:
    """Against the prices of the same thing ('Growth at $299' against 'Growth is $199'), else
    against every price; a tool whose material says it is free states a price too."""
    near = [p for p in facts.prices if p.context & context]
    if near:
        match = next((p for p in near if _same_price(money, p)), None)
        if match:
            return "supported", match.sentence
        return "contradicted", max(near, key=lambda p: len(p.context & context)).sentence
    match = next((p for p in facts.prices if _same_price(money, p)), None)
    if match:
        return "supported", match.sentence
    if facts.prices:
        best = min(
            facts.prices,
            key=lambda p: (p.money.currency != money.currency, abs(p.money.amount - money.amount)),
        )
        return "contradicted", best.sentence
    free = free_fact(facts, free=True, words=context)
    if free is not None and money.amount > 0:
        return "contradicted", free.sentence
    return UNSUPPORTED


def derived_total(
    facts: Facts, text: str, money: Money, counts: list[Number]
) -> tuple[PriceFact, list[Span]] | None:
    """A total the review works out from the material's unit price: '£320 a month' for 40
    people at £8 a seat, '$400' for 20 TB at USD 0.02 per GB, '$708 a year' for $59 a month.
    Returns the unit price's fact and the span of the count used (a projection, not a claim)."""
    if money.per is not None or money.per_qty != 1 or money.amount <= 0:
        return None
    tolerance = 0.05 if money.approx else 0.005
    for fact in facts.prices:
        unit = fact.money
        if unit.amount <= 0 or (money.currency and unit.currency and money.currency != unit.currency):
            continue
        factor = 12.0 if money.period == "year" and unit.period == "month" else 1.0
        options: list[tuple[float, list[Span]]] = [(1.0, [])] if factor != 1 else []
        for n in counts:
            size = re.match(r"\s?(TB|GB|MB)\b", text[n.end :])
            value = n.value * (_SIZE_TO_GB[size.group(1).lower()] if size and unit.per == "gb" else 1.0)
            options.append((value / unit.per_qty, [(n.start, n.end)]))
        for qty, used in options:
            total = qty * float(unit.amount) * factor
            if total and abs(total - float(money.amount)) <= tolerance * float(money.amount):
                return fact, used
    return None


def free_fact(facts: Facts, free: bool, words: frozenset[str], trial: bool = False) -> FreeFact | None:
    """The material's best statement that something is (or is not) free: a sentence before the
    one-word pricing entry, and among sentences the one sharing most words with the claim."""
    found = [f for f in facts.free if f.free == free and f.trial == trial]
    if not found:
        return None

    def rank(f: FreeFact) -> tuple[bool, int]:
        text = facts.texts[f.sentence].lower()
        return (not f.entry, sum(w in text for w in words))

    return max(found, key=rank)


def free_verdict(facts: Facts, free: Free, words: frozenset[str]) -> Verdict:
    """'free tier', 'costs nothing' (or 'no free plan', negated) against the material's free and
    paid statements; a sentence that says so outranks the one-word pricing entry."""
    yes = free_fact(facts, True, words, free.trial)
    no = free_fact(facts, False, words, free.trial)
    free_wins = yes is not None and (not yes.entry or no is None or no.entry)
    if not free.negated:
        if free_wins:
            return "supported", yes.sentence  # type: ignore[union-attr]
        if no:
            return "contradicted", no.sentence
        if facts.prices and not free.trial:
            return "contradicted", facts.prices[0].sentence
        return UNSUPPORTED
    if free_wins:
        return "contradicted", yes.sentence  # type: ignore[union-attr]
    return ("supported", no.sentence) if no else UNSUPPORTED


# --- licenses, dates, versions, figures ---------------------------------------------------------


def _same_license(a: License, b: License) -> bool:
    if a.family != b.family:
        return False
    if a.key is None or b.key is None:
        return True

    def base(key: str) -> str:
        return key.removesuffix("-only").removesuffix("-or-later")

    return base(a.key) == base(b.key)


def license_verdict(facts: Facts, lic: License) -> Verdict:
    stated = [(i, x) for i, x in facts.licenses if x.kind != "dual"]
    if lic.kind == "dual":  # "dual licensed", "a commercial license"
        dual = [i for i, x in facts.licenses if x.kind == "dual"]
        if dual:
            return "supported", dual[0]
        families = {x.family for _, x in stated if x.kind == "spdx"}
        return ("supported", stated[0][0]) if len(families) > 1 else UNSUPPORTED
    if lic.kind == "spdx":
        same = [i for i, x in stated if x.kind == "spdx" and _same_license(lic, x)]
        other = [i for i, x in stated if x.kind == "spdx"] or [i for i, _ in stated]
    elif lic.kind == "available":
        same = [i for i, x in stated if x.kind == "available" or (x.kind == "spdx" and x.is_open is False)]
        other = [i for i, x in stated if x.is_open is True or x.kind == "closed"]
    else:  # open source, or closed source / proprietary
        same = [i for i, x in stated if x.is_open is lic.is_open]
        other = [i for i, x in stated if x.is_open is (not lic.is_open)]
    if same:
        return ("contradicted" if lic.negated else "supported"), same[0]
    if other:
        return ("supported" if lic.negated else "contradicted"), other[0]
    return UNSUPPORTED


def date_verdict(facts: Facts, date: Date, anchor: tuple[int, ...] | None) -> Verdict:
    """Against the date of the same version ('2.0 in March 2023' against '2.0 (March 2024)'), else
    of the same kind of event (founded, launched, released); a year matches any date in it."""

    def equal(d: Date) -> bool:
        return d.year == date.year and (date.month is None or d.month == date.month)

    def compatible(d: Date) -> bool:
        return equal(d) or (d.year == date.year and d.month is None)

    if anchor is not None:
        anchored = [(i, d) for i, d, a in facts.dates if a == anchor]
        if anchored:
            match = next((i for i, d in anchored if equal(d)), None)
            return ("supported", match) if match is not None else ("contradicted", anchored[0][0])
    same_event = [(i, d) for i, d, _ in facts.dates if d.events & date.events]
    match = next((i for i, d in same_event if equal(d)), None)
    if match is None:
        match = next((i for i, d, _ in facts.dates if equal(d)), None)
    if match is not None:
        return "supported", match
    if same_event and not any(compatible(d) for _, d in same_event):
        return "contradicted", same_event[0][0]
    return UNSUPPORTED


def _version_matches(review: Version, material: Version) -> bool:
    """Equal ('2' is '2.0'), inside a range ('15' in '13 and later'), or a bare major version
    of the material's ('v2' for 2.4)."""
    width = max(len(review.number), len(material.number))
    r = review.number + (0,) * (width - len(review.number))
    m = material.number + (0,) * (width - len(material.number))
    if r == m or (material.at_least and r >= m):
        return True
    return len(review.number) == 1 and material.number[0] == review.number[0]


def version_verdict(facts: Facts, version: Version) -> Verdict:
    """Against the material's versions of the same product (the tool's own when unnamed). A
    negated one agrees when it misses ('could not run on Python 3.8' against 3.10 or later); one
    on the roadmap is never refuted by the current version."""
    tool = normalise(facts.tool)
    subject = None if version.subject and normalise(version.subject) == tool else version.subject
    same = [
        (i, v)
        for i, v in facts.versions
        if (v.subject is None and subject is None)
        or (v.subject and subject and normalise(v.subject) == normalise(subject))
    ]
    if not same:
        return UNSUPPORTED
    match = next((i for i, v in same if _version_matches(version, v)), None)
    if match is not None:
        return ("contradicted" if version.negated else "supported"), match
    if version.future:
        return UNSUPPORTED
    return ("supported" if version.negated else "contradicted"), same[0][0]


def figure_verdict(facts: Facts, figure: Figure) -> Verdict | None:
    """Against figures of the same quantity; refuted only by one about the same thing (sharing
    context words). None: a figure of the reviewer's own setup that the material does not
    confirm ('our 3 GB images'), which is no claim about the tool."""
    same = [(i, f) for i, f in facts.figures if figure.quantity in (f.quantity, "number")]

    def equal(f: Figure) -> bool:
        return abs(f.value - figure.value) <= 1e-9 * max(abs(f.value), 1.0)

    near = [(i, f) for i, f in same if f.context & figure.context and figure.quantity != "number"]
    match = next((i for i, f in near if equal(f)), None)
    if match is None:
        match = next((i for i, f in same if equal(f)), None)
    if match is not None:
        return "supported", match
    if figure.first_person:
        return None
    if near:
        return "contradicted", max(near, key=lambda x: len(x[1].context & figure.context))[0]
    return UNSUPPORTED
