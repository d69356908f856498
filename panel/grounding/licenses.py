"""Licenses in a text: named ones normalised to SPDX (license-expression), and open-source,
closed-source, source-available and dual-license talk, each with its span, the parts of the
product it is said of, whether it is a later license ('converts to Apache 2.0 after four years')
and whether it is applied to something or merely named. The same reader parses the material
(once, cached with it) and every review, so both sides are read alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_license_index, get_spdx_licensing

from panel.grounding.spans import Layout, negated_at, stem

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
