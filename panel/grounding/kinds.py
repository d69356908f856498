"""Licenses, dates and versions in a text, each with its span and parsed value. The same readers
parse the material (once, cached with it) and every review, so both sides are read alike.

Prices live in claim_prices.py, figures in claim_figures.py, names in claim_names.py; judging a
review against the material is claims.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_license_index, get_spdx_licensing

from panel.grounding.figures import UNIT
from panel.grounding.spans import (
    NEGATION,
    SCALES,
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
    r"(?P<gpl>\b(?:Affero\s+|A|L)?GPL(?:[- ]?v?\d(?:\.\d)?)?(?:[- ](?:only|or[- ]later))?\+?(?![\w]))"
    r"|(?P<fsl>\bFSL(?:-1\.[01])?(?:-(?:MIT|Apache-2\.0|ALv2))?(?![\w.-])"
    r"|\bFunctional\s+Source\s+License(?:,?\s+(?:v|version\s+)?1\.[01])?(?:,?\s+(?:MIT|Apache\s+2\.0)\s+Future\s+License)?)"
    r"|(?P<apache>\bApache(?:[- ]License)?(?:,?[- ]?(?:v|version\s)?2(?:\.0)?)?(?![\w]|\.\d))"
    r"|(?P<mit>\bMIT\b)"
    r"|(?P<bsd>\bBSD(?:[- ]?[0-4][- ]?[Cc]lause)?(?![\w]))"
    r"|(?P<mpl>\bMPL(?:[- ]?v?[12](?:\.[01])?)?(?![\w]|\.\d)|\bMozilla\s+Public\s+License(?:\s+v?2(?:\.0)?)?)"
    r"|(?P<busl>\bBUSL(?:-1\.1)?\b|\bBSL[- ]?1\.1\b"
    r"|\bBusiness\s+Source\s+License(?:,?\s+(?:v|version\s+)?1\.1)?)"
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
    "closed", "proprietary", "source-available", "source available", "licen", "fsl", "functional source",
)  # fmt: skip
_CANONICAL_CASE = re.compile(
    r"GPL|AGPL|LGPL|Affero|FSL|Functional|Apache|MIT|BSD|MPL|Mozilla|BUSL|BSL|Business|SSPL|Server|Elastic|ELv2|EPL|"
    r"Eclipse|ISC|Unlicense"
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
    component: frozenset[str] = frozenset()  # the parts it is said of (server, client, sdk ...); empty: all
    future: bool = False  # a license it changes to later: 'converts to Apache 2.0 after four years'
    applied: bool = False  # said to be the license of something ('licensed under', 'is MIT', a title)


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
                "Elastic": False, "FSL": False}  # fmt: skip


def _spdx(group: str, raw: str) -> tuple[str, str | None]:
    """(family, SPDX key or None) for a license as written: 'GPLv3' -> (GPL, GPL-3.0-only)."""
    version = re.search(r"(\d(?:\.\d)?)", raw)
    ver = version.group(1) if version else None
    if group == "gpl":
        raw = re.sub(r"(?i)affero\s+", "A", raw)  # 'the Affero GPL' is the AGPL
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
    elif group == "fsl":
        then = "ALv2" if re.search(r"(?i)apache|alv2", raw) else "MIT" if "MIT" in raw else None
        return "FSL", f"FSL-1.1-{then}" if then else None  # the license it converts to
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


# The parts of a product a license can be said of, by stem: 'the client libraries are MIT' says
# nothing of the server. A license said of none of them is said of the whole tool.
_COMPONENT_WORDS = {
    "server": "server servers daemon", "client": "client clients", "sdk": "sdk sdks", "cli": "cli",
    "agent": "agent agents", "core": "core", "library": "library libraries lib libs",
    "plugin": "plugin plugins plug-in plug-ins", "extension": "extension extensions",
    "module": "module modules", "enterprise": "enterprise ee", "community": "community ce",
    "console": "console dashboard ui frontend", "runtime": "runtime", "engine": "engine",
    "operator": "operator operators", "app": "app apps", "docs": "docs documentation",
    "example": "example examples", "integration": "integration integrations",
    "driver": "driver drivers", "connector": "connector connectors",
    "theme": "theme themes template templates",
    "asset": "asset assets logo logos", "binary": "binary binaries", "model": "model models weights",
}  # fmt: skip
COMPONENTS = {stem(w): part for part, words in _COMPONENT_WORDS.items() for w in words.split()}
# The parts that stand for the product itself: a claim about 'it' is about these.
MAIN_COMPONENTS = frozenset({"server", "core", "engine", "runtime", "binary", "cli"})
_PRONOUN = re.compile(r"\b(?:they|it|them|these|those|each|both)\b", re.I)
_FUTURE_LICENSE = re.compile(
    r"\b(?:becomes?|becoming|converts?|converted|converting|turns?\s+into|switch(?:es)?\s+to|"
    r"change\s+(?:date|licen[cs]e)|future\s+licen[cs]e|will\s+(?:be|become|convert|switch|move)|anniversary|"
    r"effective\s+on|on\s+or\s+after|after\s+(?:\w+\s+){0,2}(?:years?|months?)|(?:years?|months?)\s+after)\b",
    re.I,
)
_FROM_THEN = re.compile(
    r"\s*(?:on\s+or\s+after|(?:\w+\s+)?(?:years?|months?)\s+after|after\s+(?:\w+\s+){0,2}(?:years?|months?|date))\b",
    re.I,
)
_QUALIFIES_BACK = re.compile(
    r"(?:\bwhich|\bthat|:)\s*$", re.I
)  # '..., which is open source', 'Change License: MPL'
_LATER = re.compile(
    r"\s*(?:only\s+)?(?:after|once|from|starting)\b[^.;]{0,30}?\b(?:years?|months?|anniversary|date)\b", re.I
)


def components(text: str) -> frozenset[str]:
    """The parts of a product named in a stretch of text: 'the client libraries' -> {client, library}."""
    stems = (stem(x) for x in re.findall(r"[A-Za-z][\w-]*", text))
    return frozenset(COMPONENTS[w] for w in stems if w in COMPONENTS)


def _future(text: str, layout: Layout, pos: int) -> bool:
    """A license the tool changes to later: its sentence opens with the date ('On or after that
    date, ...'), its clause says so ('converts to Apache 2.0'), the clause after it gives the delay
    ('... only after four years'), or it qualifies the clause before ('becomes available under
    Apache 2.0, which is open source'; 'Change License: MPL')."""
    cs, ce = layout.clause_at(pos)
    ss, _ = layout.sentence_at(pos)
    if _FROM_THEN.match(text, ss):  # 'On or after that date, you may use it under the MIT license'
        return True
    if _QUALIFIES_BACK.search(text, max(ss, cs - 8), cs):
        cs = layout.clause_at(max(ss, cs - 9))[0] if cs > ss else cs
    # the clause, and the word after it: clauses break before 'after' ('four years | after ...')
    return bool(_FUTURE_LICENSE.search(text, cs, min(len(text), ce + 7)) or _LATER.match(text, ce))


_APPLIED_BEFORE = re.compile(
    r"(?:\bunder|\bterms\s+of|\blicen[cs]e[ds]?:|\bidentifier:|\bis|\bare|\bwas)\s+(?:the\s+|an?\s+)?\[?$",
    re.I,
)
_APPLIED_AFTER = re.compile(r"\]?[\s-]*licen[cs]ed\b", re.I)


def _applied(text: str, layout: Layout, lic: License) -> bool:
    """Said to be the license of something: 'licensed under the MIT license', 'The CLI is
    Apache-2.0', 'MIT licensed', 'subject to the terms of the MPL', or a title ('MIT License',
    'Business Source License 1.1'); not a license merely named ('a version of the Affero GPL')."""
    ss, se = layout.sentence_at(lic.start)
    if _APPLIED_BEFORE.search(text, max(ss, lic.start - 40), lic.start) or _APPLIED_AFTER.match(
        text, lic.end
    ):
        return True
    title = text[ss:se].strip()
    return (
        len(title.split()) <= 8
        and len(text[ss : lic.start].split()) <= 3
        and not title.endswith((".", "!", "?"))
    )


def _components_at(text: str, layout: Layout, found: list[License]) -> list[License]:
    """Each mention with the parts it is said of: from the previous mention in its sentence (or
    the sentence start) to the end of its clause. 'they' with no part named refers back to the
    previous mention's parts."""
    out: list[License] = []
    for lic in found:
        ss, _ = layout.sentence_at(lic.start)
        _, ce = layout.clause_at(lic.start)
        before = [x for x in out if ss <= x.start < lic.start]
        lo = before[-1].end if before else ss
        parts = components(text[lo : lic.start] + " " + text[lic.end : max(ce, lic.end)])
        if not parts and before and _PRONOUN.search(text, lo, lic.start):
            parts = before[-1].component
        future = _future(text, layout, lic.start)
        out.append(replace(lic, component=parts, future=future, applied=_applied(text, layout, lic)))
    return out


def licenses(text: str, layout: Layout) -> list[License]:
    """Named licenses (normalised to SPDX with license-expression) and open/closed-source talk,
    each with the parts of the product it is said of and whether it is a later license."""
    _, categories = _license_index()
    out = []
    matches = [
        m
        for s, e in layout.sentences
        if any(h in text[s:e].lower() for h in _LICENSE_HINTS)
        for m in _LICENSE.finditer(text, s, e)
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
    return _components_at(text, layout, out)


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
