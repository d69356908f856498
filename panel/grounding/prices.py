"""Prices in a text: amounts of money with their unit and period ('$30 per seat', 'EUR 9 per
pipeline per month', 'thirty dollars'), parsed with price-parser, and statements that something
is or is not free ('free tier', 'costs nothing', 'no free plan', 'free trial').

The same readers parse the material (once, cached with it) and every review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

from panel.grounding.spans import (
    DIGITS,
    NEGATION,
    PLAN_NAMES,
    STOPWORDS,
    Layout,
    context_words,
    digit_value,
    negated_at,
    numbers,
    overlaps,
    stem,
    wordset,
)

CURRENCIES = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
    "¥": "JPY", "jpy": "JPY", "yen": "JPY", "cny": "CNY", "rmb": "CNY",
    "cad": "CAD", "c$": "CAD", "aud": "AUD", "a$": "AUD", "chf": "CHF", "inr": "INR", "₹": "INR",
}  # fmt: skip
_CODE = r"(?:usd|eur|gbp|jpy|cad|aud|chf|cny|inr)"
_SYMBOL = r"(?:US\$|C\$|A\$|\$|€|£|¥|₹)"
_SCALE = r"(?:\s?(?:million|thousand|billion)\b|(?:k|K|M|bn)(?![\w]))"
_MONEY = re.compile(
    rf"(?<![\w$€£¥])(?:(?P<sym>{_SYMBOL})\s?(?P<a1>{DIGITS}){_SCALE}?"
    rf"|(?P<code>(?i:{_CODE}))\s?(?P<a2>{DIGITS}){_SCALE}?"
    rf"|(?P<a3>{DIGITS}){_SCALE}?\s?(?P<after>€|\$|(?i:{_CODE}|dollars?|euros?|pounds?|yen|bucks))(?![\w]))"
)
_WORD_CURRENCY = re.compile(r"\s+(dollars?|euros?|pounds?|yen|bucks)\b", re.I)
PERIODS = {
    "mo": "month", "mth": "month", "month": "month", "months": "month", "monthly": "month",
    "year": "year", "yr": "year", "years": "year", "annum": "year", "annually": "year", "yearly": "year",
    "week": "week", "day": "day", "quarter": "quarter",
}  # fmt: skip
PERSON_UNITS = wordset(
    "seat seats user users agent agents editor editors member members person people head heads "
    "developer developers engineer engineers employee employees designer designers collaborator "
    "collaborators admin admins"
)
_TAIL = re.compile(
    r"\s*(?P<conn>/|\bper\b|\ba\b|\ban\b|\beach\b|\bevery\b)\s*"
    r"(?:(?P<qty>\d[\d,.]*\s?(?:k|m|bn|million|thousand)?|million|thousand|billion)\b\s*)?"
    r"(?P<word>[A-Za-z]+)?",
    re.I,
)
_APPROX = re.compile(
    r"(?:about|around|roughly|approximately|nearly|almost|under|over|less than|more than|up to|~|≈)\s*$",
    re.I,
)


_ENTRY_FREE = re.compile(r"\b(?:free|freemium|open-source|open|oss)\b")
_ENTRY_PAID = re.compile(r"\b(?:paid|commercial|subscription|enterprise)\b")


def entry_is_free(entry: str) -> bool | None:
    """What a one-word pricing entry says: True for 'free', 'freemium', 'open-source' (there is
    a way to use it for nothing), False for 'paid' and its kin, None when it says neither."""
    entry = entry.lower()
    if _ENTRY_FREE.search(entry):
        return True
    if _ENTRY_PAID.search(entry):
        return False
    return None


@dataclass(frozen=True)
class Money:
    start: int
    end: int
    amount: Decimal
    currency: str | None
    period: str | None  # month, year, ...
    per: str | None  # "person" for per seat/user/agent..., else the unit's stem ("gb", "request")
    per_qty: float  # "per million requests" -> 1e6
    approx: bool


def _tail(text: str, pos: int) -> tuple[int, str | None, str | None, float]:
    """The unit and period after an amount: ' per seat per month', '/mo', ' per 1M requests'."""
    period = per = None
    qty = 1.0
    while True:
        m = _TAIL.match(text, pos)
        if not m or not (m.group("qty") or m.group("word")):
            break
        conn, word = m.group("conn").lower(), (m.group("word") or "").lower()
        q = m.group("qty")
        if word in PERIODS and not q:
            period = PERIODS[word]
        elif conn in ("/", "per") and (word or q):
            if word and word in STOPWORDS and not q:
                break
            if q:
                qty = digit_value(q.replace(" ", "")) or {"million": 1e6, "thousand": 1e3}.get(q.lower(), 1.0)
            if word and word not in STOPWORDS:
                per = "person" if word in PERSON_UNITS else stem(word)
            elif word:
                pos = m.start("word")
                break
        elif conn == "each" and not word:
            pass
        else:
            break
        pos = m.end()
    return pos, period, per, qty


# Cheap substring checks that let most reviews skip the money pattern.
_MONEY_HINTS = ("$", "€", "£", "¥", "₹", "usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "cny", "inr",
                "dollar", "pound", "yen", "buck")  # fmt: skip
_SCALE_VALUE = {"million": 10**6, "thousand": 1000, "billion": 10**9, "bn": 10**9, "k": 1000, "m": 10**6}


def prices(text: str) -> list[Money]:
    """Amounts of money with their unit: '$30 per seat', 'EUR 9', '¥1,200', 'thirty dollars'."""
    low = text.lower()
    if not any(h in low for h in _MONEY_HINTS):
        return []
    found = []
    for m in _MONEY.finditer(text):
        raw = m.group()
        parsed = Price.fromstring(
            re.sub(r"(?i)million|thousand|billion|bn|[kKM](?!\w)", "", raw), decimal_separator="."
        )
        if parsed.amount is None:
            continue
        amount = parsed.amount
        scale = re.search(r"(?i)(million|thousand|billion|bn|(?<=\d)[kKM])(?!\w)", raw)
        if scale:
            amount *= Decimal(_SCALE_VALUE[scale.group(1).lower()])
        cur = (m.group("sym") or m.group("code") or m.group("after") or "").lower()
        found.append((m.start(), m.end(), amount, CURRENCIES.get(cur)))
    for n in numbers(text):
        cm = _WORD_CURRENCY.match(text, n.end)
        if n.words and cm and not overlaps(n.start, cm.end(), [(s, e) for s, e, *_ in found]):
            found.append((n.start, cm.end(), Decimal(str(n.value)), CURRENCIES[cm.group(1).lower()]))
    out = []
    for start, end, amount, currency in sorted(found):
        tail_end, period, per, qty = _tail(text, end)
        approx = bool(_APPROX.search(text, max(0, start - 20), start))
        out.append(Money(start, tail_end, amount, currency, period, per, qty, approx))
    return out


# --- free / paid -------------------------------------------------------------------------------

_FREE_NOUNS = (
    r"(?:tier|plan|version|edition|option|account|allowance|quota|binary|cli|core|product|app|layer)"
)
_FREE = re.compile(
    r"(?P<trial>\bfree\s+trial\b)"
    r"|(?P<nopaid>\bno\s+paid\s+(?:tier|plan|version|edition)s?\b)"
    r"|(?P<noun>(?<![-\w])free\s+(?:[A-Z][a-z]+\s+)?" + _FREE_NOUNS + r"\b(?!s))"
    r"|(?P<phrase>(?<![-\w])free\s+(?:to\s+(?:use|self-host|host|run|download|start)|forever|of\s+charge"
    r"|for\s+(?:individuals|everyone|personal|small|open|non-?commercial|up\s+to|teams|hobby|students)"
    r"|up\s+to|below|under|and\s+open[- ]source)\b)"
    r"|(?P<verb>\b(?:is|are|'s|be|being|stays?|remains?|becomes?)\s+(?:[\w-]+,?\s+){0,3}?free\b(?![-\w])"
    r"(?!\s+(?:trial|(?:[A-Z][a-z]+\s+)?" + _FREE_NOUNS + r")\b)"
    r"(?!\s+(?:of|from)\s+(?!charge)))"
    r"|(?P<cost>\bfor\s+free\b|\bat\s+no\s+(?:extra\s+)?cost\b|\bcosts?\s+nothing(?:\s+extra)?\b"
    r"|\bfor\s+nothing\b|\bfree\s+of\s+charge\b)"
    r"|(?P<allowance>\b(?:first|up\s+to)\b[^.;,]{0,40}?(?<![-\w])free\b(?![-\w]|\s+trial)"
    r"|(?:\d|million|thousand)\S*\s+free\s+(?!trials?\b)[a-z]+)",
    re.I,
)


_FREE_HINTS = ("free", "cost", "nothing", "no paid")


@dataclass(frozen=True)
class Free:
    start: int
    end: int
    trial: bool  # a free trial, not a free offering
    negated: bool  # "no free tier", "isn't free"
    every: bool = False  # "no paid tier": nothing the tool offers is paid


def free_statements(text: str, layout: Layout) -> list[Free]:
    """'free tier', 'is free', 'costs nothing', 'no free plan', 'free trial', 'no paid tier'."""
    out: list[Free] = []
    matches = [
        m
        for s, e in layout.sentences
        if any(h in text[s:e].lower() for h in _FREE_HINTS)
        for m in _FREE.finditer(text, s, e)
    ]
    for m in matches:
        if overlaps(m.start(), m.end(), [(f.start, f.end) for f in out]):
            continue
        kind = m.lastgroup
        start, end = m.start(), m.end()
        if kind in ("verb", "allowance"):  # 'is not free' keeps its verb; 'first 1M ... free' is 'free'
            free_at = text.lower().rfind("free", start, end)
            negated = bool(NEGATION.search(text, start, end)) or negated_at(text, layout, start, start)
            span = (start, end) if kind == "verb" else (free_at, free_at + 4)
            out.append(Free(*span, trial=False, negated=negated))
            continue
        if kind == "nopaid":
            out.append(Free(start, end, trial=False, negated=False, every=True))
            continue
        negated = negated_at(text, layout, start, start)
        out.append(Free(start, end, trial=kind == "trial", negated=negated))
    return out


_PRICE_WORDS = (
    wordset(
        "price prices pricing priced cost costs charge charges charged pay pays paying paid plan plans "
        "tier tiers billed billing bill fee fees dollar dollars euro euros pound pounds yen usd eur gbp "
        "jpy starts start from only just about around roughly"
    )
    | frozenset(PERIODS)
    | PERSON_UNITS
)


def clause_context(text: str, layout: Layout, start: int, end: int) -> frozenset[str]:
    """What a price is the price of: content words of its clause, less units and price talk."""
    cs, ce = layout.clause_at(start)
    ce = max(ce, end)
    return context_words(text[cs:start] + " " + text[end:ce], exclude=_PRICE_WORDS)


# --- what a price is the price of ----------------------------------------------------------------

_OFFERING = re.compile(
    r"([\w-]+)\s+(?:plans?|tiers?|editions?|packages?|subscriptions?|contracts?|licen[cs]es?|options?|"
    r"add-?ons?|bundles?|offerings?|versions?)\b",
    re.I,
)
# Editions, by what they are: 'Cloud', 'managed' and 'SaaS' name the hosted one.
_EDITIONS = {
    "hosted": "hosted", "cloud": "hosted", "managed": "hosted", "saas": "hosted",
    "self-hosted": "self-hosted", "self-host": "self-hosted", "self-hosting": "self-hosted",
    "selfhosted": "self-hosted", "on-prem": "self-hosted", "on-premises": "self-hosted",
    "on-premise": "self-hosted", "self-managed": "self-hosted",
}  # fmt: skip
# Words before 'plan' that say which plan by rank or billing, not by name: 'the entry plan' is
# whichever plan is cheapest, so it is compared with every price.
_RELATIVE = wordset(
    "entry cheapest lowest base basic starting top highest paid free this that its every each one most "
    "popular annual monthly yearly same other new current default cheaper priciest smallest largest "
    "biggest only whole"
)
_WORD = re.compile(r"[A-Za-z][\w-]*")


def plans(text: str) -> frozenset[str]:
    """What a price (or a free statement) in this stretch of text is said of, when it names it:
    the plan, edition or offering ('the Pro plan', 'the hosted tier', 'a support contract',
    'Starter on Tidewater Cloud'), lower-cased, with editions by kind ('cloud' is 'hosted').
    Empty: the tool's price in general. A word before 'plan', 'tier', 'contract' ... outranks the
    rest: in 'the hosted Pro plan' the subject is Pro."""
    named = {w.lower() for w in _OFFERING.findall(text)} - _RELATIVE - STOPWORDS
    if named:
        return frozenset(_EDITIONS.get(w, w) for w in named)
    words = _WORD.findall(text)
    editions = {_EDITIONS[w.lower()] for w in words if w.lower() in _EDITIONS}
    names = {w.lower() for w in words if w[0].isupper() and w.lower() in PLAN_NAMES - {"free"}}
    return frozenset(editions | names)
