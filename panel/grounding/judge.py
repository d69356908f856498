"""How one specific stands against the material's facts: supported, contradicted or unsupported,
and the material sentence it rests on or conflicts with.

The rule, kind by kind: a specific that matches the material is supported; one that matches
nothing is contradicted only when the material gives a different value for the same subject (a
price of the same plan or edition in the same unit, a version of the same release, a figure of
the same thing measured against the same thing, a license of the same product or part at the
same time, a date of the same event), and unsupported otherwise: rich material states many
prices, versions and percentages, and one about something else refutes nothing (issue 15,
section 5). Negation still counts.
"""

from __future__ import annotations

import re
from decimal import Decimal

from panel.grounding.facts import Facts, FreeFact, PriceFact
from panel.grounding.figures import Figure
from panel.grounding.kinds import Date, Version
from panel.grounding.licenses import MAIN_COMPONENTS, License
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


def _same_unit(money: Money, fact: PriceFact) -> bool:
    """Per seat, per GB, per request ...: the same, or not said on one side."""
    return money.per is None or fact.money.per is None or money.per == fact.money.per


def about(claim: frozenset[str], fact: frozenset[str]) -> bool:
    """The same subject: the fact is about one of the things the claim names, or the claim names
    none (it is about the tool as a whole, which every fact is about)."""
    return not claim or bool(claim & fact)


def money_verdict(facts: Facts, money: Money, context: frozenset[str], plans: frozenset[str]) -> Verdict:
    """Against the prices of the same subject: the same plan or edition ('Growth at $299'
    against 'Growth is $199'; a claim naming no plan, against every plan) in the same unit, and
    among them those sharing words with the claim ('on Linux'). A price for a plan the material
    never prices is unsupported, whatever else it prices; so is one for an edition it does not
    say is free. A tool whose material says it is free states a price too."""
    same = [p for p in facts.prices if about(plans, p.plans) and _same_unit(money, p)]
    near = [p for p in same if p.context & context]
    for pool in (near, same):
        if pool:
            matches = [p for p in pool if _same_price(money, p)]
            if matches:
                return "supported", _closest(matches, money, context).sentence
            return "contradicted", _closest(pool, money, context).sentence
    match = next((p for p in facts.prices if _same_price(money, p)), None)
    if match:
        return "supported", match.sentence  # the material's amount, though said of another plan
    free = _free_for(facts, plans, context)
    if free is not None and money.amount > 0:
        return "contradicted", free.sentence
    return UNSUPPORTED


def _closest(pool: list[PriceFact], money: Money, context: frozenset[str]) -> PriceFact:
    """The evidence for a price: the fact sharing most words, then in the same unit and period,
    then the nearest amount in the same currency."""

    def rank(p: PriceFact) -> tuple[int, bool, bool, bool, Decimal]:
        unit = p.money
        return (
            -len(p.context & context),
            unit.per != money.per,
            unit.period != money.period,
            unit.currency != money.currency,
            abs(unit.amount - money.amount),
        )

    return min(pool, key=rank)


def _free_for(facts: Facts, plans: frozenset[str], words: frozenset[str]) -> FreeFact | None:
    """The material's statement that what a price is for is free: a statement about the tool as
    a whole when the price names no plan, about the same plan or edition when it does, or one
    that nothing is sold ('there is no paid tier')."""
    found = [
        f
        for f in facts.free
        if f.free and not f.trial and (f.every or (f.plans & plans if plans else not f.plans))
    ]
    return _best_free(facts, found, words)


def derived_total(
    facts: Facts, text: str, money: Money, counts: list[Number], plans: frozenset[str] = frozenset()
) -> tuple[PriceFact, list[Span]] | None:
    """A total the review works out from the material's unit price: '£320 a month' for 40
    people at £8 a seat, '$400' for 20 TB at USD 0.02 per GB, '$708 a year' for $59 a month.
    Returns the unit price's fact (of the plan the review names, and stated per unit, first)
    and the span of the count used (a projection, not a claim)."""
    if money.per is not None or money.per_qty != 1 or money.amount <= 0:
        return None
    tolerance = 0.05 if money.approx else 0.005
    ranked = sorted(facts.prices, key=lambda p: (not (plans & p.plans), p.money.per is None))
    for fact in ranked:
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


def _free_rank(facts: Facts, f: FreeFact, words: frozenset[str]) -> tuple[bool, int]:
    """A sentence before the one-word pricing entry, and among sentences the one sharing most
    words with the claim."""
    text = facts.texts[f.sentence].lower()
    return (not f.entry, sum(w in text for w in words))


def _best_free(facts: Facts, found: list[FreeFact], words: frozenset[str]) -> FreeFact | None:
    return max(found, key=lambda f: _free_rank(facts, f, words)) if found else None


def free_fact(facts: Facts, free: bool, words: frozenset[str], trial: bool = False) -> FreeFact | None:
    """The material's best statement that something is (or is not) free."""
    return _best_free(facts, [f for f in facts.free if f.free == free and f.trial == trial], words)


def free_verdict(facts: Facts, free: Free, words: frozenset[str], plans: frozenset[str]) -> Verdict:
    """'free tier', 'costs nothing' (or 'no free plan', negated) against the material's free and
    paid statements; a sentence that says so outranks the one-word pricing entry. With no free
    or paid statement, a price of the same subject refutes it ('the CLI is free' is not refuted
    by the hosted plans' prices)."""
    yes = free_fact(facts, True, words, free.trial)
    no = free_fact(facts, False, words, free.trial)
    free_wins = yes is not None and (
        no is None or _free_rank(facts, yes, words) >= _free_rank(facts, no, words)
    )
    if not free.negated:
        if free_wins:
            return "supported", yes.sentence  # type: ignore[union-attr]
        if no:
            return "contradicted", no.sentence
        priced = [p for p in facts.prices if about(plans, p.plans)]
        if priced and not free.trial:
            return "contradicted", priced[0].sentence
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


def _license_pool(facts: Facts, lic: License) -> list[tuple[int, License]]:
    """The material's licenses of the same product or part, for the same time: a claim about the
    client libraries against what is said of them or of the whole tool; a claim about the tool
    against what is said of the whole or of its main part (else of any part); a license it
    converts to later only against later ones ('becomes Apache 2.0 after four years'). The
    main part is the whole, the server, core, engine ...: not 'the client libraries', nor the
    integrations a README lists."""
    timely = [(i, x) for i, x in facts.licenses if x.future == lic.future]
    if lic.component:
        return [f for f in timely if f[1].component & lic.component] or [
            f for f in timely if not f[1].component
        ]
    main = [f for f in timely if f[1].component <= MAIN_COMPONENTS]
    return main or timely


def license_verdict(facts: Facts, lic: License) -> Verdict:
    pool = _license_pool(facts, lic)
    stated = [(i, x) for i, x in pool if x.kind != "dual"]
    if lic.kind == "dual":  # "dual licensed", "a commercial license"
        dual = [i for i, x in pool if x.kind == "dual"]
        if dual:
            return "supported", dual[0]
        families = {x.family for _, x in stated if x.kind == "spdx"}
        return ("supported", stated[0][0]) if len(families) > 1 else UNSUPPORTED
    if lic.kind == "spdx":
        # licenses applied to the product ('licensed under', 'is MIT', a title) outrank those merely
        # named ('a version of the Affero GPL'); 'open source' does not refute MIT, 'proprietary' does
        stated = [(i, x) for i, x in stated if x.applied] or stated
        same = [i for i, x in stated if x.kind == "spdx" and _same_license(lic, x)]
        other = [i for i, x in stated if x.kind == "spdx"] or [
            i for i, x in stated if x.is_open is not lic.is_open
        ]
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


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _version_matches(review: Version, material: Version) -> bool:
    """Equal ('2' is '2.0'), inside a product's range ('15' in 'Postgres 13 and later', '3.12'
    for 'Python 3.10 or later'), or a bare major version of the material's ('v2' for 2.4)."""
    r, m = _padded(review.number, material.number)
    ranged = material.subject is not None and ((material.at_least and r >= m) or (review.at_least and m >= r))
    if r == m or ranged:
        return True
    return len(review.number) == 1 and material.number[0] == review.number[0]


def _product(facts: Facts, name: str | None) -> str | None:
    """The product a version is of, normalised; None for the tool itself."""
    return None if name is None or normalise(name) == normalise(facts.tool) else normalise(name)


def _same_release(version: Version, same: list[tuple[int, Version]]) -> list[tuple[int, Version]]:
    """The material's versions of the same release: the current one for 'the latest release'
    (one called latest, else the highest), the one that brought the same feature for 'rotation
    arrived in v1.4'. Empty when the claim names neither: a bare version is then only checked
    to exist."""
    if version.latest:
        now = [(i, v) for i, v in same if not v.future]
        called = [(i, v) for i, v in now if v.latest]
        top = max((v.number for _, v in now), default=None)
        return called or [(i, v) for i, v in now if v.number == top]
    need = min(2, len(version.topic))  # most of a short topic: 'Module federation' is not 'CSS modules'
    return [(i, v) for i, v in same if len(version.topic & v.topic) >= need] if need else []


def version_verdict(facts: Facts, version: Version) -> Verdict:
    """Against the material's versions of the same product (the tool's own when unnamed). For
    the tool's own, only the same release refutes: the current one, or the one that brought the
    same feature; a version the material never dates is unsupported, whatever others it states.
    For another product ('Postgres 12' against 'Postgres 13 and later') any version of it does.
    A negated one agrees when it misses ('could not run on Python 3.8' against 3.10 or later);
    one on the roadmap is never refuted by the current version."""
    subject = _product(facts, version.subject)
    same = [(i, v) for i, v in facts.versions if _product(facts, v.subject) == subject]
    release = _same_release(version, same) if subject is None else same
    match = next((i for i, v in release or same if _version_matches(version, v)), None)
    if match is not None:
        return ("contradicted" if version.negated else "supported"), match
    if version.future or not release:
        return UNSUPPORTED  # a release the material never dates, or one still to come
    return ("supported" if version.negated else "contradicted"), release[0][0]


def _measured_alike(claim: Figure, fact: Figure) -> bool:
    """The same thing measured: words in common, and against the same thing when the claim
    names one ('40% faster than Loki' is not refuted by '60% less disk than Elasticsearch', nor
    by a percentage measured against nothing)."""
    return bool(fact.context & claim.context) and about(claim.target, fact.target)


def figure_verdict(facts: Facts, figure: Figure) -> Verdict | None:
    """Against figures of the same quantity; refuted only by one about the same thing (see
    _measured_alike). None: a figure of the reviewer's own setup that the material does not
    confirm ('our 3 GB images'), which is no claim about the tool."""
    same = [(i, f) for i, f in facts.figures if figure.quantity in (f.quantity, "number")]

    def equal(f: Figure) -> bool:
        return abs(f.value - figure.value) <= 1e-9 * max(abs(f.value), 1.0)

    near = [(i, f) for i, f in same if _measured_alike(figure, f) and figure.quantity != "number"]
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
