"""Figures in a text: numbers with a unit or a counted noun ('40%', 'under 800 ms', '6 MB', '3x',
'12 languages', 'a team of seven'), each with its quantity, so that only figures of the same
quantity are compared (a latency with a latency, a count of seats with seats).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from panel.grounding.spans import (
    FIRST_PERSON,
    STOPWORDS,
    Layout,
    Span,
    context_words,
    numbers,
    overlaps,
    stem,
    wordset,
)

_UNITS: list[tuple[str, str, float]] = [
    (r"%|percent|per\s+cent|pct", "percent", 1),
    (r"ns|nanoseconds?", "duration", 1e-9),
    (r"µs|microseconds?", "duration", 1e-6),
    (r"ms|msecs?|milliseconds?", "duration", 1e-3),
    (r"secs?|seconds?", "duration", 1),
    (r"mins?|minutes?", "duration", 60),
    (r"hrs?|hours?", "duration", 3600),
    (r"days?", "duration", 86400),
    (r"weeks?", "duration", 604800),
    (r"months?", "duration", 2_629_800),
    (r"quarters?", "duration", 7_889_400),
    (r"years?|yrs?", "duration", 31_557_600),
    (r"bytes?", "size", 1),
    (r"KB|kB|KiB|kilobytes?", "size", 1e3),
    (r"MB|MiB|megabytes?", "size", 1e6),
    (r"GB|GiB|gigabytes?", "size", 1e9),
    (r"TB|TiB|terabytes?", "size", 1e12),
    (r"PB|petabytes?", "size", 1e15),
    (r"x|×|times", "multiplier", 1),
]
UNIT = re.compile(
    r"(?:\s?-\s?|\s)?(?:" + "|".join(f"(?P<u{i}>{p})" for i, (p, _, _) in enumerate(_UNITS)) + r")(?![\w])"
)
_ATTACHED = re.compile(r"(?P<s>s)(?![\w])|(?P<h>h)(?![\w])|(?P<us>us)(?![\w])")  # '5s', '2h', '50us'
_ATTACHED_SECONDS = {"s": 1.0, "h": 3600.0, "us": 1e-6}
# Unit and number words say what a figure is, not what it is about: kept out of its context.
_NOT_CONTEXT = wordset(
    "percent pct cent ns nanosecond nanoseconds us microsecond microseconds ms msec msecs millisecond "
    "milliseconds sec secs second seconds min mins minute minutes hr hrs hour hours day days week weeks "
    "month months quarter quarters year years yr yrs byte bytes kb kib mb mib gb gib tb tib pb x times "
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
    "thousand million billion dozen half"
)
# Count nouns that are the same quantity: "3,000 customers" and "3,000 businesses".
_SYNONYMS = [
    "user users seat seats member members person people teammate teammates",
    "customer customers business businesses organisation organisations organization organizations "
    "company companies client clients",
    "download downloads install installs installation installations",
    "region regions location locations datacenter datacenters pop pops",
    "request requests call calls invocation invocations",
    "integration integrations connector connectors",
    "response responses submission submissions",
]
SYNONYM = {stem(w): group.split(maxsplit=1)[0] for group in _SYNONYMS for w in wordset(group)}
_NOT_COUNTED = frozenset(
    stem(w)
    for w in wordset(
        "thing things reason reasons way ways step steps question questions point points case cases "
        "example examples idea ideas word words sentence sentences option options time times problem "
        "problems issue issues of more less than percent per"
    )
)
_AGAINST = re.compile(
    r"[^.;:!?]{0,40}?\b(?:than|versus|vs\.?|against|compared\s+(?:with|to)|relative\s+to)\s+"
    r"((?:[^.;:!?,()]|\.(?=\w)){1,40})",
    re.I,
)
_TARGET_WORD = re.compile(r"[A-Za-z0-9][\w.+-]*")


def target_of(text: str, end: int) -> frozenset[str]:
    """What a figure is measured against, from the words after it: '60% less disk than
    Elasticsearch' -> {elasticsearch}, '35% compared with 2.x' -> {2.x}: the first content words
    (two at most, lower-cased); empty when the figure names no comparison."""
    m = _AGAINST.match(text, end)
    if not m:
        return frozenset()
    found: list[str] = []
    for word in (w.lower() for w in _TARGET_WORD.findall(m.group(1))):
        if word in STOPWORDS and found:
            break
        if word not in STOPWORDS:
            found.append(word)
    return frozenset(found[:2])


# Figures whose value is relative to something ('40% faster than Loki'); a count or a duration
# followed by 'than' ('9 languages, fewer than Unleash') is still measured on its own.
_RELATIVE = frozenset({"percent", "multiplier"})
_COMPARATIVE = re.compile(
    r"\s+(?:less|more|faster|slower|smaller|larger|bigger|cheaper|fewer|as|over)\b", re.I
)
_THRESHOLD = re.compile(r"\b(?:at|above|beyond)\s+$", re.I)
_SCOPE = re.compile(r"(?i)(?:for|(?:ship|skip)(?:\s+it)?(?:,\s*\w+)?\s+for)\b")
_COUNT_FORECAST = re.compile(r"\b(?:in|within|over\s+the\s+next|next|in\s+the\s+next)\s+$", re.I)


@dataclass(frozen=True)
class Figure:
    start: int
    end: int
    value: float  # in the base unit (seconds, bytes, a count)
    quantity: str  # percent, duration, size, multiplier, count:<noun>, number
    context: frozenset[str]
    first_person: bool  # the reviewer's own setup ("our 3 GB images"): can be supported, not refuted
    target: frozenset[str] = frozenset()  # what it is measured against: '40% faster than Loki' -> {loki}


def _head_noun(text: str, pos: int) -> tuple[int, str] | None:
    """The counted noun after a number: '10,000 monitored emails' -> emails, 'two payments
    engineers' -> engineers. Up to three words, stopping at stop words and punctuation."""
    words = list(re.finditer(r"\s+([a-z][a-z-]*)", text[pos : pos + 60]))
    chain: list[re.Match[str]] = []
    head: re.Match[str] | None = None
    for w in words[:3]:
        if w.start() != (chain[-1].end() if chain else 0):
            break
        word = w.group(1)
        if word in STOPWORDS:
            break
        chain.append(w)
        plural = (word.endswith("s") and not word.endswith("ss")) or word == "people"
        if head is not None:
            # 'payments engineers in' continues to the second plural; 'languages sounds generous'
            # does not (a verb follows the noun)
            after = re.match(r"\s+([a-z]+)", text[pos + w.end() :])
            if plural and (not after or after.group(1) in STOPWORDS):
                head = w
            break
        if plural:
            head = w
    if head is None:
        return None
    return pos + head.end(), head.group(1)


def figures(text: str, layout: Layout, taken: list[Span]) -> list[Figure]:
    """Numbers with a unit or a counted noun: '40%', 'under 800 ms', '6 MB', '3x', '12 languages'."""
    out = []
    for n in numbers(text):
        if overlaps(n.start, n.end, taken) or re.match(r"(?:st|nd|rd|th)\b|\s?[ap]\.?m\b", text[n.end :]):
            continue
        cs, ce = layout.clause_at(n.start)
        end, quantity, value = n.end, "", n.value
        um = UNIT.match(text, n.end)
        am = None if um else _ATTACHED.match(text, n.end)
        if um:
            i = int(next(k for k, v in um.groupdict().items() if v)[1:])
            _, quantity, factor = _UNITS[i]
            if (
                quantity == "multiplier"
                and um.group().strip() == "times"
                and not _COMPARATIVE.match(text, um.end())
            ):
                verb = re.search(r"\b([a-z]+ed)\b[^.;]*$", text[cs : n.start])
                if verb:  # "downloaded 2 million times" counts downloads
                    quantity = f"count:{SYNONYM.get(stem(verb.group(1)), stem(verb.group(1)))}"
                    factor = 1
            end, value = um.end(), n.value * factor
            if quantity == "duration" and factor >= 2_629_800 and _COUNT_FORECAST.search(text, cs, n.start):
                continue  # "within twelve months" is a forecast horizon
        elif am:
            quantity, end, value = "duration", am.end(), n.value * _ATTACHED_SECONDS[am.lastgroup or "s"]
        else:
            team = re.search(r"\bteams?\s+of\s+(?:up\s+to\s+)?$", text[max(0, n.start - 20) : n.start], re.I)
            person = re.match(r"-(?:person|people|member|seat|user)\b", text[n.end :])
            head = _head_noun(text, n.end)
            if person:
                quantity, end = "count:user", n.end + person.end()
            elif team:
                quantity = "count:user"
                if head and SYNONYM.get(stem(head[1])) == "user":
                    end = head[0]
            elif head and stem(head[1]) not in _NOT_COUNTED:
                key = stem(head[1])
                quantity, end = f"count:{SYNONYM.get(key, key)}", head[0]
            elif n.words or n.value < 10 or 1900 <= n.value <= 2100:
                continue  # a bare small number or word is rarely a claim
            else:
                quantity = "number"
        if _SCOPE.match(text[cs:ce]) or re.search(r"\b(?:would|could|might|if)\b", text[cs:ce], re.I):
            continue  # "For a 25-person company ...", "if you run 50 pipelines", "Ship for teams under 20"
        if quantity.startswith("count:") and _THRESHOLD.search(text, max(0, n.start - 8), n.start):
            continue  # "at fifty agents you will want a bigger tool", "above a hundred agents": a scale
        ss, se = layout.sentence_at(n.start)
        context = context_words(text[max(ss, n.start - 50) : min(se, end + 50)], exclude=_NOT_CONTEXT)
        first = bool(FIRST_PERSON.search(text, cs, ce))
        target = target_of(text, end) if quantity in _RELATIVE else frozenset()
        out.append(Figure(n.start, end, value, quantity, context, first, target))
    return out
