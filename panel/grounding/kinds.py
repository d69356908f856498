"""Dates and versions in a text, each with its span and parsed value. The same readers parse the
material (once, cached with it) and every review, so both sides are read alike.

Licenses live in licenses.py, prices in prices.py, figures in figures.py, names in names.py;
judging a review against the material is judge.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from panel.grounding.figures import UNIT
from panel.grounding.spans import (
    NEGATION,
    SCALES,
    STOPWORDS,
    Layout,
    Span,
    context_words,
    overlaps,
    stem,
    wordset,
)

# --- dates -------------------------------------------------------------------------------------

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DATE = re.compile(
    r"(?:(?P<month>(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)\s+(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+)?)?"
    r"(?:(?P<q>Q[1-4])\s+)?(?<![\w.,$€£¥-])(?P<year>19[7-9]\d|20\d\d)(?![\w%-]|[.,]\d)"
    r"|(?P<iso>\b(?P<iy>20\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)\b)"
)
_DATE_FORECAST = re.compile(r"\b(?:by|until|till|before|through)\s+(?:the\s+end\s+of\s+)?$", re.I)
EVENTS = {
    "start": "found launch start began begun public open run around market sell available availability "
    "reach ga debut exist since creat live incorporat",
    "release": "releas ship land arriv add introduc updat version changelog publish",
    "plan": "plan roadmap upcom due schedul",
}
EVENT_STEMS = {stem(w): group for group, words in EVENTS.items() for w in wordset(words)}


@dataclass(frozen=True)
class Date:
    start: int
    end: int
    year: int
    month: int | None
    events: frozenset[str]  # start, release, plan: what the date is the date of
    context: frozenset[str]


def _events(words: frozenset[str]) -> frozenset[str]:
    return frozenset(EVENT_STEMS[w] for w in words if w in EVENT_STEMS)


def dates(text: str, layout: Layout) -> list[Date]:
    """Years and dates stated as fact ('since 2019', 'March 2025'); forecasts ('by 2028') skipped."""
    out = []
    for m in _DATE.finditer(text):
        month: int | None
        if m.group("iso"):
            year, month = int(m.group("iy")), int(m.group("im"))
        else:
            year = int(m.group("year"))
            month = MONTHS.get(m.group("month")[:3].lower()) if m.group("month") else None
            after = re.match(r"\s+([a-z]+)", text[m.end() :])
            before = re.search(
                r"(?i)\b(?:since|in|from|until|by|of|early|late|mid|around|circa)\s+$", text[: m.start()]
            )
            if (
                after
                and after.group(1).endswith("s")
                and after.group(1) not in STOPWORDS
                and not month
                and not before
            ):
                continue  # "2000 users" is a count
        cs, ce = layout.clause_at(m.start())
        if _DATE_FORECAST.search(text, max(0, m.start() - 25), m.start()):
            continue
        if re.search(r"\b(?:will|would|could|might)\b|\bexpect", text[cs:ce], re.I):
            continue
        ss, se = layout.sentence_at(m.start())
        context = context_words(text[max(ss, m.start() - 60) : min(se, m.end() + 30)])
        out.append(Date(m.start(), m.end(), year, month, _events(context), context))
    return out


# --- versions ----------------------------------------------------------------------------------

_VERSION = re.compile(
    r"(?P<v>(?<![\w.])v(?P<n1>\d+(?:\.\d+){0,3})|(?<![\w.])V(?P<n2>\d+\.\d+(?:\.\d+)?))(?![\w]|[.,]\d)"
    r"|(?P<word>\b(?:[Vv]ersion|[Rr]elease|[Rr]el\.)\s+(?P<n3>\d+(?:\.\d+){0,3}))(?![\w]|[.,]\d)"
    r"|(?P<bare>(?<![\w.,$€£¥/+-])(?P<n4>\d+\.\d+(?:\.\d+)?)(?![\w%]|[.,]\d))"
)
_RANGE = re.compile(r"\+|\s+(?:or|and)\s+(?:later|newer|higher|above|up)\b|\s+and\s+up\b", re.I)
_FUTURE = re.compile(r"\b(?:roadmap|planned|upcoming|coming|next|soon|will|expected|promised)\b", re.I)


@dataclass(frozen=True)
class Version:
    start: int
    end: int
    subject: str | None  # the product it is a version of; None for the tool itself
    number: tuple[int, ...]
    at_least: bool  # "3.10 or later", "13+"
    negated: bool
    future: bool  # "on the roadmap", "will ship"
    topic: frozenset[str] = frozenset()  # what it brought, by stem: 'key rotation arrived in v1.4'
    latest: bool = False  # said to be the current release: 'the latest release, 2.1'


def _vnum(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _counted_follows(text: str, pos: int) -> bool:
    """'Postgres 15 cluster' is a version; 'Postgres 15 tables', '15 ms' or '10 million rows' is a
    figure."""
    nxt = re.match(r"\s*([A-Za-z%]+)", text[pos:])
    if not nxt:
        return False
    word = nxt.group(1)
    scaled = word.lower() in SCALES
    return scaled or (word.lower() not in STOPWORDS and (word.endswith("s") or bool(UNIT.match(text, pos))))


_AFTER_VERSION = wordset(
    "meant made brought broke took fixed dropped added shipped landed arrived introduced removed changed "
    "adds brings ships introduces fixes drops removes changes requires needs supports"
)


def _unit_follows(text: str, pos: int) -> bool:
    """A word other than a stop word or a verb follows: '2.5 seconds' and '2.5 million' are
    figures; '3.0 this summer', '1.4 meant' and '2.4 (November 2024)' are versions."""
    nxt = re.match(r"\s*([A-Za-z%]+)", text[pos:])
    if not nxt or text[pos:].startswith(" ("):
        return False
    word = nxt.group(1).lower()
    return word not in STOPWORDS and word not in _AFTER_VERSION


def versions(
    text: str, layout: Layout, names: list[tuple[int, int, str]], taken: list[Span]
) -> list[Version]:
    """'v1.4', 'version 2.3', '3.0', and a named product's version: 'Postgres 13 and later'."""
    found: list[tuple[int, int, str | None, str]] = []
    for m in _VERSION.finditer(text):
        if overlaps(m.start(), m.end(), taken):
            continue
        if m.group("bare") and _unit_follows(text, m.end()):
            continue  # "2.5 seconds" is a figure
        found.append(
            (m.start(), m.end(), None, m.group("n1") or m.group("n2") or m.group("n3") or m.group("n4"))
        )
    for start, end, name in names:
        after = re.match(r"\s+v?(\d+(?:\.\d+){0,2})(?![\w%]|[.,]\d)", text[end:])
        if (
            after
            and not overlaps(end, end + after.end(), taken)
            and ("." in after.group(1) or not _counted_follows(text, end + after.end()))
        ):
            found = [f for f in found if not overlaps(f[0], f[1], [(end, end + after.end())])]
            found.append((start, end + after.end(), name, after.group(1)))
    out = []
    starts = sorted(f[0] for f in found)
    for start, end, subject, number in sorted(found):
        rng = _RANGE.match(text, end)
        cs, ce = layout.clause_at(start)
        future = bool(_FUTURE.search(text, cs, ce))
        out.append(
            Version(
                start,
                rng.end() if rng else end,
                subject,
                _vnum(number),
                at_least=bool(rng),
                negated=_version_negated(text, cs, ce, start),
                future=future,
                topic=_topic_at(text, layout, (start, end), subject, starts),
                latest=not future and bool(_LATEST.search(text, cs, ce)),
            )
        )
    return out


_LATEST = re.compile(r"\b(?:latest|current|newest|most\s+recent)\b", re.I)
# Words about releasing, not about what was released: they say nothing of a version's topic.
_RELEASE_WORDS = wordset(
    "version versions release releases released releasing ship ships shipped shipping land lands landed "
    "arrive arrives arrived add adds added introduce introduces introduced bring brings brought update "
    "updates updated new latest current newest recent since v first stable public"
)
_VERB_NEGATION = re.compile(r"\b(?:not|never|cannot)\b|n't\b", re.I)


def version_topic(text: str, subject: str | None = None) -> frozenset[str]:
    """What a version is said to bring, by stem: 'Column-level lineage arrived in version 2.4' ->
    {column, level, lineag}. Release verbs, months and the product's own name are not a topic."""
    drop = {stem(w) for w in (_RELEASE_WORDS | frozenset(MONTHS) | wordset(subject or ""))}
    words = context_words(text, exclude=_RELEASE_WORDS) - drop
    return frozenset(w for w in words if w not in _MONTH_STEMS)


def _topic_at(
    text: str, layout: Layout, span: Span, subject: str | None, starts: list[int]
) -> frozenset[str]:
    """The topic of a version's clause; when that clause names none ('Version 2.3, released in
    March 2025, added lineage'), the rest of its sentence up to another version."""
    start, end = span
    cs, ce = layout.clause_at(start)
    topic = version_topic(text[cs:start] + " " + text[end:ce], subject)
    if topic:
        return topic
    _, se = layout.sentence_at(start)
    for s, e in (c for c in layout.clauses if c[0] >= ce):
        if s >= se or any(s <= x < e for x in starts):
            break
        topic |= version_topic(text[s:e], subject)
    return topic


def _version_negated(text: str, cs: int, ce: int, start: int) -> bool:
    """'No support for Python 3.8', 'Python 3.8 could not run it'; not 'needed no changes' after it."""
    return bool(NEGATION.search(text, cs, start) or _VERB_NEGATION.search(text, start, ce))


_MONTH_STEMS = frozenset(
    stem(m)
    for m in wordset("january february march april may june july august september october november december")
)


def version_near(
    text: str, found: list[Version], start: int, end: int, reach: int = 40
) -> tuple[int, ...] | None:
    """The version a date belongs to: '2.0 (March 2024)', 'version 2.3, released in March 2025';
    not across a semicolon ('since 2021; version 1.4')."""

    def gap(v: Version) -> int:
        return v.start - end if v.start >= end else start - v.end

    near = [
        v
        for v in found
        if v.subject is None
        and 0 <= gap(v) <= reach
        and not re.search(r"[;.!?]\s", text[min(v.end, end) : max(v.start, start)])
    ]
    return min(near, key=gap).number if near else None
