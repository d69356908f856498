"""Names in a text: products, companies, projects and standards ("Doppler", "Google Cloud",
"SOC 2 Type II", "macOS"), told apart from capitalised ordinary words, places, plan names and
generic tech terms (CI, API, SQL ...).

A capitalised word that starts a sentence is a name only with some other sign: it has inner
capitals or digits, it recurs capitalised mid-sentence, it heads a list of names ("Otter,
Fireflies and ..."), it is possessive ("Glean's"), or the material knows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from panel.grounding.spans import (
    COMMON_CAPITALISED,
    GENERIC_TERMS,
    LOWERCASE_NAMES,
    PLACES,
    PLAN_NAMES,
    STOPWORDS,
    Layout,
)

_TOKEN = re.compile(
    r"(?<![\w$€£¥])(?:[A-Z][A-Za-z0-9]*|[a-z]+[A-Z][A-Za-z0-9]*)(?:[-.][A-Za-z0-9]+)*(?P<poss>['’]s\b)?"
)
_STANDARD = re.compile(
    r"\bSOC\s?[12](?:\s+Type\s+(?:II|I|1|2)\b)?|\bISO(?:/IEC)?\s?\d{4,5}(?:-\d+)?\b|\bPCI[- ]DSS\b"
)
_LOWER_TAIL = re.compile(r"-[a-z]+$")
MAX_NAME_WORDS = 6  # "GitHub Container Registry" is three; a longer capitalised run is a title
_SENTENCE_OPENER = re.compile(r"(?:^|[.!?:;—–(]\s*|\n\s*(?:[-*+•]\s+)?)$")
_LIST_NEXT = re.compile(r"(?:,\s*|\s+(?:and|or|&)\s+)(?:[A-Z]|[a-z]+[A-Z])")


@dataclass(frozen=True)
class Name:
    start: int
    end: int
    text: str


def _distinctive(token: str) -> bool:
    """Inner capitals or digits: 'GitHub', 'macOS', 'V8', 'AES-256' are names wherever they stand
    ('SDKs' is only a plural)."""
    core = token[:-1] if token.endswith("s") and token[:-1].isupper() else token
    return (any(c.isupper() for c in core[1:]) and not core.isupper()) or any(c.isdigit() for c in core)


def _generic(word: str) -> bool:
    low = word.lower()
    return low in GENERIC_TERMS or (low.endswith("s") and word[:-1].isupper() and low[:-1] in GENERIC_TERMS)


def _ordinary(word: str) -> bool:
    """Not a name on its own: a stop word, a month, a place, a plan name or a generic term."""
    low = word.lower()
    if _generic(word):
        return True
    return not _distinctive(word) and (
        low in STOPWORDS or low in COMMON_CAPITALISED or low in PLACES or low in PLAN_NAMES
    )


_TECH_NEXT = re.compile(
    r"\s+(?:SDKs?|APIs?|CLI|client|library|runtime|module|toolchain|compiler|code|output)\b"
)
_LIST_BEFORE = re.compile(r"(?:[A-Z][\w.+-]*|[a-z]+[A-Z]\w*)(?:,\s*|\s+(?:and|or)\s+)$")


def _is_word_name(text: str, start: int, end: int, known: Callable[[str], bool]) -> bool:
    """A capitalised common word mid-sentence that names something: 'the Go SDK', 'TypeScript,
    Python and Go'. Only words that are otherwise stop words ('Go') get this second look."""
    word = text[start:end]
    if (
        word.lower() not in STOPWORDS
        or word.isupper()
        or _SENTENCE_OPENER.search(text, max(0, start - 3), start)
    ):
        return False
    listed = bool(_LIST_BEFORE.search(text, max(0, start - 40), start)) or bool(_LIST_NEXT.match(text, end))
    return bool(_TECH_NEXT.match(text, end)) or listed or known(word)


def _runs(text: str, start: int, end: int) -> list[list[re.Match[str]]]:
    """Capitalised tokens, grouped into runs separated by single spaces."""
    runs: list[list[re.Match[str]]] = []
    for m in _TOKEN.finditer(text, start, end):
        if runs and not runs[-1][-1].group("poss") and text[runs[-1][-1].end() : m.start()] == " ":
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


_Token = tuple[int, int, re.Match[str]]  # a token's span, its possessive "'s" left out


def find_names(
    text: str,
    layout: Layout,
    known: Callable[[str], bool] = lambda _: False,
    strict_starts: bool = True,
    skip: list[tuple[int, int]] | None = None,
) -> list[Name]:
    """Names in text. `known` says whether the material mentions a word; `strict_starts` applies
    the sentence-start rule (reviews); `skip` are spans already read as something else (a
    license, a price, a date)."""
    found: list[Name] = [Name(m.start(), m.end(), m.group()) for m in _STANDARD.finditer(text)]
    taken = [(n.start, n.end) for n in found] + list(skip or [])
    runs = _runs(text, 0, len(text))
    mid_sentence = _mid_sentence_words(text, runs)
    for run in runs:
        if len(run) > MAX_NAME_WORDS:
            continue  # a title or a shouted line, not a name
        tokens = _free_tokens(text, run, taken)
        if tokens and _is_word_name(text, tokens[0][0], tokens[0][1], known):
            found.append(Name(tokens[0][0], tokens[0][1], text[tokens[0][0] : tokens[0][1]]))
            tokens.pop(0)
        name = _run_name(text, run, _trim_ordinary(text, tokens), mid_sentence, known, strict_starts)
        if name is not None:
            found.append(name)
    for m in re.finditer(r"(?<![\w-])(" + "|".join(sorted(LOWERCASE_NAMES)) + r")(?![\w-])", text):
        found.append(Name(m.start(), m.end(), m.group()))
    return sorted(found, key=lambda n: n.start)


def _mid_sentence_words(text: str, runs: list[list[re.Match[str]]]) -> set[str]:
    """Words that stand alone mid-sentence somewhere ('Forms' inside 'Marlin Forms' does not)."""
    return {
        m.group().lower().removesuffix(m.group("poss") or "")
        for run in runs
        if len(run) == 1
        for m in run
        if not _SENTENCE_OPENER.search(text, max(0, m.start() - 3), m.start())
    }


def _free_tokens(text: str, run: list[re.Match[str]], taken: list[tuple[int, int]]) -> list[_Token]:
    """The run's tokens outside the `taken` spans, without a possessive or a lowercase tail."""
    tokens = [(m.start(), m.end() - len(m.group("poss") or ""), m) for m in run]
    tokens = [(s, e, m) for s, e, m in tokens if not any(a < e and s < b for a, b in taken)]
    # "HIPAA-ready" names HIPAA; "English-speaking" names nothing
    return [(s, e - len(t.group()) if (t := _LOWER_TAIL.search(text, s, e)) else e, m) for s, e, m in tokens]


def _trim_ordinary(text: str, tokens: list[_Token]) -> list[_Token]:
    """Ordinary words off the front of a run; places, plan names and stop words off its end."""
    tokens = list(tokens)
    while tokens and _ordinary(text[tokens[0][0] : tokens[0][1]]):
        tokens.pop(0)
    while tokens and text[tokens[-1][0] : tokens[-1][1]].lower() in PLACES | PLAN_NAMES | STOPWORDS:
        tokens.pop()
    return tokens


def _run_name(
    text: str,
    run: list[re.Match[str]],
    tokens: list[_Token],
    mid_sentence: set[str],
    known: Callable[[str], bool],
    strict_starts: bool,
) -> Name | None:
    """The name the trimmed `tokens` of `run` spell, if they spell one."""
    if not tokens:
        return None
    start, end = tokens[0][0], tokens[-1][1]
    word = text[start:end]
    if len(tokens) == 1 and _ordinary(word):
        return None
    if all(text[s:e].lower() in PLACES for s, e, _ in tokens):
        return None
    opener = _SENTENCE_OPENER.search(text, max(0, start - 3), start) is not None or start == 0
    # "Generated SDKs" at a sentence start is one ordinary word and a generic term
    core = [t for t in tokens if not _generic(text[t[0] : t[1]])]
    lead = text[core[0][0] : core[0][1]] if core else word
    if strict_starts and opener and core[:1] == tokens[:1] and len(core) == 1 and not _distinctive(lead):
        possessive = bool(run[-1].group("poss")) and tokens[-1][2] is run[-1]
        listed = bool(_LIST_NEXT.match(text, end))
        recurs = lead.lower() in mid_sentence
        if not (possessive or listed or recurs or known(lead)):
            return None
    return Name(start, end, word)


def normalise(name: str) -> str:
    """'Git Hub' and 'github' compare equal: case, spaces and punctuation dropped."""
    return re.sub(r"[^a-z0-9]", "", name.lower())
