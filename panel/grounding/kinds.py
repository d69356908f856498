"""Licenses, dates and versions in a text, each with its span and parsed value. The same readers
parse the material (once, cached with it) and every review, so both sides are read alike.

Prices live in claim_prices.py, figures in claim_figures.py, names in claim_names.py; judging a
review against the material is claims.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_license_index, get_spdx_licensing

from panel.grounding.figures import UNIT
from panel.grounding.spans import (
    NEGATION,
    STOPWORDS,
    Layout,
    Span,
    context_words,
    negated_at,
    overlaps,
    stem,
    wordset,
)

# --- licenses ----------------------------------------------------------------------------------

_LICENSE = re.compile(
    r"(?P<gpl>\b(?:A|L)?GPL(?:[- ]?v?\d(?:\.\d)?)?(?:[- ](?:only|or[- ]later))?\+?(?![\w]))"
    r"|(?P<apache>\bApache(?:[- ]License)?(?:,?[- ]?(?:v|version\s)?2(?:\.0)?)?(?![\w]|\.\d))"
    r"|(?P<mit>\bMIT\b)"
    r"|(?P<bsd>\bBSD(?:[- ]?[0-4][- ]?[Cc]lause)?(?![\w]))"
    r"|(?P<mpl>\bMPL(?:[- ]?v?[12](?:\.[01])?)?(?![\w]|\.\d)|\bMozilla\s+Public\s+License(?:\s+v?2(?:\.0)?)?)"
    r"|(?P<busl>\bBUSL(?:-1\.1)?\b|\bBSL[- ]?1\.1\b|\bBusiness\s+Source\s+License(?:\s+v?1\.1)?)"
    r"|(?P<sspl>\bSSPL(?:[- ]?v?1(?:\.0)?)?\b|\bServer\s+Side\s+Public\s+License)"
    r"|(?P<elastic>\bElastic\s+License(?:\s+v?2(?:\.0)?)?|\bELv2\b)"
    r"|(?P<epl>\bEPL(?:[- ]?v?[12]\.0)?\b|\bEclipse\s+Public\s+License)"
    r"|(?P<isc>\bISC\s+licen[cs]e)|(?P<unlicense>\bUnlicense\b)"
    r"|(?P<open>\bopen[- ]sourced?\b(?!\s+(?:alternatives?|competitors?|rivals?|community|world|ecosystem|"
    r"movement|projects|tools|crowd|peers|options|maintainers|infrastructure|software\s+in\s+general)))"
    r"|(?P<closed>\bclosed[- ]source\b|\bproprietary\b)"
    r"|(?P<available>\bsource[- ]available\b)"
    r"|(?P<dual>\bdual[- ]licen[cs](?:ed|e|ing)\b|\bcommercial\s+licen[cs]e\b)",
    re.I,
)
# Cheap substring checks that let most sentences skip the license pattern.
_LICENSE_HINTS = (
    "gpl", "apache", "mit", "bsd", "mpl", "mozilla", "busl", "bsl", "business source", "sspl", "server side",
    "elastic lic", "elv2", "epl", "eclipse pub", "isc", "unlicense", "open source", "open-source",
    "closed", "proprietary", "source-available", "source available", "licen",
)  # fmt: skip
_CANONICAL_CASE = re.compile(
    r"GPL|AGPL|LGPL|Apache|MIT|BSD|MPL|Mozilla|BUSL|BSL|Business|SSPL|Server|Elastic|ELv2|EPL|Eclipse|ISC|Unlicense"
)
# scancode categories of the license index: these are open source; the rest are not
OPEN_CATEGORIES = frozenset({"Permissive", "Copyleft", "Copyleft Limited", "Public Domain"})


@dataclass(frozen=True)
class License:
    start: int
    end: int
    kind: str  # "spdx" (a named license), "open", "closed", "available", "dual"
    family: str | None  # GPL, Apache, BSD ... for named licenses
    key: str | None  # the SPDX key where the version is known: GPL-3.0-only, BSD-3-Clause
    is_open: bool | None  # from the license index category
    negated: bool


@lru_cache(maxsize=1)
def _license_index() -> tuple[Licensing, dict[str, str]]:
    """The SPDX licensing object and a map of SPDX key (lower case) -> scancode category."""
    categories = {}
    for entry in get_license_index():
        for key in [entry.get("spdx_license_key"), *entry.get("other_spdx_license_keys", [])]:
            if key:
                categories[key.lower()] = entry.get("category", "")
    return get_spdx_licensing(), categories


_FAMILY_OPEN = {"GPL": True, "AGPL": True, "LGPL": True, "Apache": True, "MIT": True, "BSD": True,
                "MPL": True, "EPL": True, "ISC": True, "Unlicense": True, "BUSL": False, "SSPL": False,
                "Elastic": False}  # fmt: skip


def _spdx(group: str, raw: str) -> tuple[str, str | None]:
    """(family, SPDX key or None) for a license as written: 'GPLv3' -> (GPL, GPL-3.0-only)."""
    version = re.search(r"(\d(?:\.\d)?)", raw)
    ver = version.group(1) if version else None
    if group == "gpl":
        family = raw[: raw.upper().index("GPL") + 3].upper()
        if ver is None:
            return family, None
        ver = ver if "." in ver else f"{ver}.0"
        later = bool(re.search(r"later|\+", raw, re.I))
        candidate = f"{family}-{ver}{'-or-later' if later else ''}"
    elif group == "apache":
        return "Apache", "Apache-2.0" if ver else None
    elif group == "mit":
        return "MIT", "MIT"
    elif group == "bsd":
        clause = re.search(r"([0-4])[- ]?clause", raw, re.I)
        return "BSD", f"BSD-{clause.group(1)}-Clause" if clause else None
    elif group == "mpl":
        return "MPL", f"MPL-{ver if '.' in ver else ver + '.0'}" if ver else None
    elif group == "busl":
        return "BUSL", "BUSL-1.1"
    elif group == "sspl":
        return "SSPL", "SSPL-1.0"
    elif group == "elastic":
        return "Elastic", "Elastic-2.0"
    elif group == "epl":
        return "EPL", f"EPL-{ver if '.' in ver else ver + '.0'}" if ver else None
    elif group == "isc":
        return "ISC", "ISC"
    else:
        return "Unlicense", "Unlicense"
    licensing, _ = _license_index()
    try:
        return family, str(licensing.parse(candidate, validate=True))
    except ExpressionError:  # an unknown version ('GPL-9') stays a family-only mention
        return family, None


def _hints_license(sentence: str) -> bool:
    low = sentence.lower()  # once per sentence, not once per hint
    return any(h in low for h in _LICENSE_HINTS)


def licenses(text: str, layout: Layout) -> list[License]:
    """Named licenses (normalised to SPDX with license-expression) and open/closed-source talk."""
    _, categories = _license_index()
    out = []
    matches = [
        m for s, e in layout.sentences if _hints_license(text[s:e]) for m in _LICENSE.finditer(text, s, e)
    ]
    for m in matches:
        group, raw = m.lastgroup or "", m.group()
        if group not in ("open", "closed", "available", "dual") and not _CANONICAL_CASE.match(raw):
            # lower-case spellings ('agpl-3.0', 'mit') count only where the sentence talks licenses
            s, e = layout.sentence_at(m.start())
            if not re.search(r"licen[cs]", text[s:e], re.I):
                continue
        negated = negated_at(text, layout, m.start(), m.start())
        if group in ("open", "closed", "available", "dual"):
            is_open = {"open": True, "closed": False, "available": False}.get(group)
            out.append(License(m.start(), m.end(), group, None, None, is_open, negated))
            continue
        family, key = _spdx(group, raw)
        category = categories.get(key.lower()) if key else None
        is_open = category in OPEN_CATEGORIES if category else _FAMILY_OPEN.get(family)
        out.append(License(m.start(), m.end(), "spdx", family, key, is_open, negated))
    return out


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
_YEAR = re.compile(r"19[7-9]\d|20\d\d")  # in every _DATE match: a text without one has no dates
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
    if not _YEAR.search(text):  # most reviews name no year: one quick scan, not _DATE's
        return []
    out = []
    for m in _DATE.finditer(text):
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
_DIGIT = re.compile(r"\d")  # in every _VERSION match and every 'Postgres 13'
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


def _vnum(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _counted_follows(text: str, pos: int) -> bool:
    """'Postgres 15 cluster' is a version; 'Postgres 15 tables' or '15 ms' is a figure."""
    nxt = re.match(r"\s*([A-Za-z%]+)", text[pos:])
    if not nxt:
        return False
    word = nxt.group(1)
    return word.lower() not in STOPWORDS and (word.endswith("s") or bool(UNIT.match(text, pos)))


def _unit_follows(text: str, pos: int) -> bool:
    """A word other than a stop word follows: '2.5 seconds' is a figure, '3.0 this summer' and
    '2.4 (November 2024)' are versions."""
    nxt = re.match(r"\s*([A-Za-z%]+)", text[pos:])
    return bool(nxt) and nxt.group(1).lower() not in STOPWORDS and not text[pos:].startswith(" (")


def versions(
    text: str, layout: Layout, names: list[tuple[int, int, str]], taken: list[Span]
) -> list[Version]:
    """'v1.4', 'version 2.3', '3.0', and a named product's version: 'Postgres 13 and later'."""
    if not _DIGIT.search(text):  # no digit, no version: one quick scan, not _VERSION's
        return []
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
        m = re.match(r"\s+v?(\d+(?:\.\d+){0,2})(?![\w%]|[.,]\d)", text[end:])
        if (
            m
            and not overlaps(end, end + m.end(), taken)
            and ("." in m.group(1) or not _counted_follows(text, end + m.end()))
        ):
            found = [f for f in found if not overlaps(f[0], f[1], [(end, end + m.end())])]
            found.append((start, end + m.end(), name, m.group(1)))
    out = []
    for start, end, subject, number in sorted(found):
        rng = _RANGE.match(text, end)
        cs, ce = layout.clause_at(start)
        out.append(
            Version(
                start,
                rng.end() if rng else end,
                subject,
                _vnum(number),
                at_least=bool(rng),
                negated=bool(NEGATION.search(text, cs, ce)),
                future=bool(_FUTURE.search(text, cs, ce)),
            )
        )
    return out


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
