"""Text helpers for the rules layer: numbers written in digits or words, sentence and clause
spans of a review, context words, and the word lists that say what is not a name.

Reviews are split with a small regex here rather than pysbd: pysbd costs about 3 ms per review,
most of the 5 ms budget, and the rules only need sentence starts and clause boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

Span = tuple[int, int]


class Located(Protocol):
    """Anything found at a place in a text: a license, a price, a date, a name."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class Sentence:
    """A sentence of the material, with its stable id (s1, s2, ...) and the field or source it
    came from."""

    id: str
    text: str
    source: str


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def has_word(text: str, word: str) -> bool:
    """`word` in `text` with no word character either side: what the pattern
    (?<!\\w)word(?!\\w) finds, without compiling a pattern for each word looked up."""
    start = text.find(word)
    while start != -1 and word:
        end = start + len(word)
        if not (start and _word_char(text[start - 1])) and not (end < len(text) and _word_char(text[end])):
            return True
        start = text.find(word, start + 1)
    return False


def wordset(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


def overlaps(start: int, end: int, spans: list[Span]) -> bool:
    return any(s < end and start < e for s, e in spans)


def spans_of(*found: Iterable[Located]) -> list[Span]:
    """The spans of what was found, of any kinds: what later readers of the text skip."""
    return [(x.start, x.end) for group in found for x in group]


# --- numbers -----------------------------------------------------------------------------------

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
SUFFIX_SCALE = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}
_NUMBER_WORDS = {**UNITS, **TENS, **SCALES, "dozen": 12}

DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Number:
    start: int
    end: int
    value: float
    words: bool  # written in words ("thirty"), not digits


def _word_value(words: list[str]) -> float | None:
    """'twenty nine' -> 29, 'three thousand' -> 3000, 'a dozen' -> 12, 'half a dozen' -> 6."""
    if words[:3] == ["half", "a", "dozen"]:
        return 6 if len(words) == 3 else None
    if words[0] == "a":
        words = ["one", *words[1:]]
        if len(words) == 1 or (words[1] not in SCALES and words[1] != "dozen"):
            return None
    total, current = 0.0, 0.0
    for w in words:
        if w == "and":
            continue
        if w in UNITS:
            current += UNITS[w]
        elif w in TENS:
            current += TENS[w]
        elif w == "dozen":
            current = (current or 1) * 12
        elif w == "hundred":
            current = (current or 1) * 100
        elif w in SCALES:
            total += (current or 1) * SCALES[w]
            current = 0
        else:
            return None
    return total + current


_JOINERS = frozenset({" ", "-", " and "})


def word_numbers(text: str) -> Iterator[Number]:
    """Numbers written in words: runs of number words joined by spaces, hyphens or 'and', with
    'a' or 'half a' before a scale ('a dozen', 'a hundred', 'half a dozen').

    'one' alone is skipped: it is a pronoun or an article far more often than a count.
    """
    tokens = [m for m in _WORD.finditer(text) if m.group().lower() in _NUMBER_WORDS]
    i = 0
    while i < len(tokens):
        j = i + 1
        while j < len(tokens) and text[tokens[j - 1].end() : tokens[j].start()].lower() in _JOINERS:
            j += 1
        start, end = tokens[i].start(), tokens[j - 1].end()
        words = [t.group().lower() for t in tokens[i:j]]
        article = re.search(r"(?i)\b(half\s+a|a)\s+$", text[max(0, start - 8) : start])
        if article and (words[0] in SCALES or words[0] == "dozen"):
            start -= len(article.group())
            words = [*article.group().lower().split(), *words]
        value = _word_value(words)
        if value is not None and words not in (["one"], ["hundred"], ["thousand"], ["million"], ["billion"]):
            yield Number(start, end, value, True)
        i = j


_DIGIT_NUMBER = re.compile(
    rf"(?<![\w.,$€£¥])({DIGITS})(?:\s?(million|thousand|billion)\b|(k|K|M|bn)\b(?!\w))?(?=x(?!\w)|\W|$)"
)
_DIGIT_SCALE = re.compile(rf"({DIGITS})(?:\s?(million|thousand|billion)|(k|K|M|bn))?$")


def digit_value(text: str) -> float | None:
    """'1,200' -> 1200, '2.5k' -> 2500, '40M' -> 4e7, '2 million' -> 2e6."""
    m = _DIGIT_SCALE.match(text.strip())
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    scale = m.group(2) or m.group(3)
    if scale:
        value *= SCALES.get(scale.lower()) or SUFFIX_SCALE[scale.lower()]
    return value


_LONE_SCALE = re.compile(r"(?i)\b(?:first|the)\s+(million|thousand|billion)\b")


@lru_cache(maxsize=256)
def numbers(text: str) -> tuple[Number, ...]:
    """Every number in the text, digits ('1,200', '40M', '2 million') or words ('a dozen').
    Cached: the price, figure and date readers all ask for the same text's numbers."""
    found = []
    for m in _DIGIT_NUMBER.finditer(text):
        value = digit_value(m.group())
        if value is not None:
            found.append(Number(m.start(), m.end(), value, False))
    taken = [(n.start, n.end) for n in found]
    for n in word_numbers(text):
        if not any(s < n.end and n.start < e for s, e in taken):
            found.append(n)
    # "the first million requests": a scale word standing alone after an ordinal
    for m in _LONE_SCALE.finditer(text):
        s = m.start(1)
        if not any(n.start <= s < n.end for n in found):
            found.append(Number(s, m.end(1), SCALES[m.group(1).lower()], True))
    return tuple(sorted(found, key=lambda n: n.start))


# --- sentences, clauses, context ---------------------------------------------------------------

_ABBREV = wordset("e.g i.e vs etc a.m p.m approx mr mrs ms dr inc ltd co corp no fig u.s u.k st jr sr")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9$€£¥-])")
_CLAUSE_BREAK = re.compile(
    r"[;:()\[\]—–]|,(?!\d)|\s(?:-|(?i:and|but|or|while|whereas|then|so|because|although|though|which|"
    r"until|unless|after|before|against|versus|vs\.?))(?=\s)"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: ends at . ! ? before a capital (not after e.g., vs., a.m.)
    and at every line break (hand-edited reviews put one item on a line)."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for m in _SENTENCE_END.finditer(line.group()):
            word = re.search(r"([\w.]+)$", line.group()[max(0, m.start() - 12) : m.start()])
            if word and word.group(1).lower().rstrip(".") in _ABBREV:
                continue
            end = line.start() + m.end()
            spans.append((start, end))
            start = end
        if line.end() > start:
            spans.append((start, line.end()))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans if text[s:e].strip()]


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of text[start:end], split at punctuation and at conjunctions."""
    out, pos = [], start
    for m in [*_CLAUSE_BREAK.finditer(text, start, end), None]:
        stop = m.start() if m else end
        piece = text[pos:stop]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            out.append((pos + lead, pos + len(piece.rstrip())))
        pos = m.end() if m else end
    return out


@dataclass(frozen=True)
class Layout:
    """Sentence and clause spans of one text, computed once and looked up by offset."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    clauses: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, text: str, sentences: list[tuple[int, int]] | None = None) -> Layout:
        sents = sentences if sentences is not None else sentence_spans(text)
        clauses = [c for s, e in sents for c in clause_spans(text, s, e)]
        return cls(text, tuple(sents), tuple(clauses))

    def sentence_at(self, pos: int) -> tuple[int, int]:
        return next(((s, e) for s, e in self.sentences if s <= pos < e), (0, len(self.text)))

    def clause_at(self, pos: int) -> tuple[int, int]:
        return next(((s, e) for s, e in self.clauses if s <= pos < e), self.sentence_at(pos))


STOPWORDS = wordset(
    """a an the and or but if then so of to in on at by for with from into onto over under up down
    out off about above below after before than as is are was were be been being am do does did
    doing done have has had having it its it's this that these those there here their them they
    we our us you your i me my he she his her who whom which what when where why how all any both
    each few more most other some such no nor not only own same too very can could will would
    should may might must shall just also already still even yet again once per via within without
    across around between through during while until upon whether because although though however
    one ones every much many lot lots less least new now today later soon ever never always often
    own whose itself themselves get gets got make makes made take takes took go goes went come
    comes came"""
)  # fmt: skip


def stem(word: str) -> str:
    """A crude stem, enough to match 'bounces' with 'bounced' and 'rules' with 'rule'."""
    w = word.lower().replace("’", "'").removesuffix("'s")
    for suffix in ("ies", "ing", "ed", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            if suffix in ("ing", "ed") and w[-1] == w[-2] and w[-1] not in "lsfz":
                w = w[:-1]  # planned -> plan, shipping -> ship
            return w
    return w


def context_words(text: str, exclude: frozenset[str] = frozenset()) -> frozenset[str]:
    """Stems of the content words in a stretch of text."""
    return frozenset(
        stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and w.lower() not in exclude
    )


# Words that make a sentence hypothetical or about the future: figures and prices under them are
# projections, not claims.
MODAL = re.compile(r"\b(?:would|could|might|will|'d|can|may)\b", re.I)
NEGATION = re.compile(
    r"\b(?:no|not|never|without|lacks?|nor|none|cannot|can't|couldn't|doesn't|don't|isn't|aren't|"
    r"won't|wasn't|hasn't|haven't|didn't|nothing)\b|n't\b",
    re.I,
)


def negated_at(text: str, layout: Layout, start: int, end: int) -> bool:
    """A negation in the same clause before `end` ('no free tier', 'is not free')."""
    cs, _ = layout.clause_at(start)
    return bool(NEGATION.search(text, cs, end))


FIRST_PERSON = re.compile(r"\b(?:we|our|us|i|me|my|we're|we've|i've|i'm)\b", re.I)

# --- what is not a name ------------------------------------------------------------------------

# Generic tech terms: capitalised or in capitals, but naming no product, company or standard.
GENERIC_TERMS = wordset(
    """ai ml llm llms api apis cli clis sdk sdks ci cd ci/cd sql nosql json yaml yml xml csv tsv
    html css http https rest rpc url urls uri dns ui ux gpu gpus cpu cpus ram ssd os orm dag dags
    etl elt saas paas iaas b2b b2c mvp roi kpi kpis sla slas slo slos sso mfa 2fa rbac pr prs qa
    crm erp cms seo faq faqs ide ides vm vms nat cdn kb mb gb tb pb ms id ids readme todo fyi imo
    tl;dr ceo cto cfo coo vp hr it ok pdf pdfs gui tcp udp ip ssh ssl tls vpn lan wan iot
    diy p95 p99 eta q&a r&d ar vr ip api-first oss gpl-compatible"""
)  # fmt: skip

# Places, regions, languages and nationalities: capitalised, but not products or companies.
PLACES = wordset(
    """eu europe european us usa america american americas asia asian africa african uk britain
    british england english ireland irish germany german france french spain spanish italy italian
    netherlands dutch belgium sweden swedish norway norwegian denmark danish finland finnish nordic
    nordics scandinavia poland polish portugal portuguese switzerland swiss austria japan japanese
    china chinese korea korean india indian singapore australia australian canada canadian mexico
    brazil brazilian latam apac emea tokyo osaka kyoto beijing shanghai seoul berlin munich frankfurt
    hamburg paris london dublin amsterdam stockholm oslo copenhagen helsinki zurich vienna madrid
    barcelona lisbon milan rome warsaw prague tallinn san francisco new york boston seattle austin
    toronto vancouver sydney melbourne bangalore silicon valley south north east west central
    middle"""
)  # fmt: skip

# Common names of pricing plans: "the Team plan" names a tier, not a product.
PLAN_NAMES = wordset(
    """free starter basic pro plus premium team teams business enterprise growth scale hobby
    personal standard professional ultimate community essentials launch startup"""
)  # fmt: skip

# Words that start sentences or stand capitalised in reviews without naming anything.
COMMON_CAPITALISED = wordset(
    """ship skip builder skeptic futurist founder verdict update caveat note edit edited pros cons
    version release
    summary bottom line tldr yes no ok monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december"""
)  # fmt: skip

# Products and projects conventionally written in lower case, which capitalisation cannot find.
LOWERCASE_NAMES = wordset("dbt npm pnpm pip kubectl curl jq vim nginx pytest webpack esbuild")
