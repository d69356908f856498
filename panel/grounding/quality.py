"""Draft-quality flags: ways a draft goes wrong that a claim check cannot catch.

`quality_flags` runs on every check and write (panel/grounding/ground.py), so it is cheap: two
str.translate passes, one zlib compression, a few regular expressions and one set intersection
against an index of the examples (built once per set of examples). Every threshold below was
set on the labelled set in tests/data/quality/ (its README: what is in it and how it is labelled)
with `python bench/quality.py`, which prints precision and recall, each threshold's margin
(the worst clean case against the nearest case it catches) and the time per review. The figures
quoted here are that bench's.

copies-example: the review shares long runs of words (lower case, punctuation dropped) with a
persona's worked example, any persona's, since a weak model copies whichever example it saw.
Reviews in a persona's voice share its stock phrases: "and it is on time rather than early" (8
words), "and the money comes from the" (6), "the weekend alternative is a" (5). The longest run
in a clean review of the set is 8 words; every copied sentence makes a run of 17 or more, so
COPY_RUN_WORDS = 12. A copy edited every few words has no long run (11 words in the set) but
most of its words sit in runs of COPY_SHARE_RUN_WORDS or more: 61%, where clean reviews reach
16%, so COPY_SHARE = 35%.

degenerate: not a review, or not a finished one. Each test is a way small models fail:
- repeats itself: a sentence of REPEAT_SENTENCE_WORDS or more words said twice (no review does
  that), or the text compresses with zlib to under REPEAT_COMPRESSION of its length: clean
  reviews of 390-1,120 characters stay at 53% or more (longer text compresses better, so the
  200-word reviews set the margin), loops and repeated fragments reach 36% or less: 40%.
- no sentence structure: under STRUCTURE_WORD_SHARE plain tokens (words, numbers, prices;
  clean reviews 99%, paths, addresses and the tiny model's byte soup 76% or less: 85%),
  under STRUCTURE_FUNCTION_SHARE function words such as "the" and "is" (clean reviews 36% or
  more, word salad and the tiny model 5% or less: 18%), or a sentence over
  STRUCTURE_SENTENCE_WORDS words (clean: 47 at most; text with no full stops 86 and up: 80).
- unfinished: the text does not end with . ! or ? (closing quotes, brackets or markdown after
  it allowed), or it trails off on an ellipsis: the token limit, or a base model that stopped
  with finish_reason "stop" on "and", "however," or "making".

thin_material: a tool whose description and sources hold fewer than MATERIAL_MIN_WORDS distinct
content words (not function words, not the tool's name, not URLs) gives a panel nothing to
judge. "ok" has one; slogans and hype lines in the set have at most 6; the shortest ordinary
two-sentence launch blurb has 9: 8.

Details quote the review (normalised words for a copied run) with control characters escaped;
they are untrusted text like the review itself.
"""

from __future__ import annotations

import re
import string
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypedDict

from panel.records import QualityFlag, Tool

# --- thresholds: one place; the module docstring says where each comes from ------------------
COPY_RUN_WORDS = 12  # a shared run this long is a copied sentence
COPY_SHARE_RUN_WORDS = 5  # runs at least this long count towards the share ...
COPY_SHARE = 0.35  # ... and this share of the review's words in them is an edited copy
REPEAT_SENTENCE_WORDS = 5  # a sentence this long, said twice, is a loop
REPEAT_MIN_CHARS = 200  # shorter texts do not compress enough to tell
REPEAT_COMPRESSION = 0.40  # zlib size / text size under this: the text repeats itself
STRUCTURE_MIN_WORDS = 12  # the share tests need this many tokens to mean anything
STRUCTURE_WORD_SHARE = 0.85  # plain words among tokens
STRUCTURE_FUNCTION_SHARE = 0.18  # function words among words
STRUCTURE_SENTENCE_WORDS = 80  # words between two sentence ends
MATERIAL_MIN_WORDS = 8  # distinct content words in a tool's description and sources
QUOTE_CHARS = 70  # longer quotes in a detail keep their ends: 'the scenario where … breaks is'

# The commonest English function words: frequent in any prose, rare in word salad.
FUNCTION_WORDS = frozenset(
    """
    a about above after again against all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else even ever
    every few for from further had has have having he her here hers him his how however i if in
    into is it its itself just least less many may me might more most much must my neither no nor
    not now of off on once one only or other our ours out over own per same she should since so
    some such than that the their theirs them then there these they this those though through
    thus to too under until up upon us very was we were what when where whether which while who
    whom whose why will with within without would yet you your
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

# Words: lower case, apostrophes dropped ("it's" -> "its"), any other punctuation a space.
_APOSTROPHES = "'\u2018\u2019"  # ' ‘ ’
_TYPOGRAPHY = "\u201c\u201d\u2026\u2013\u2014\u00ab\u00bb"  # “ ” … – — « »
_WORD_TABLE = str.maketrans(
    {
        **dict.fromkeys(string.punctuation.replace("'", "") + _TYPOGRAPHY, " "),
        **dict.fromkeys(_APOSTROPHES, None),
    }
)
# Plain tokens: once the punctuation that may sit in or around a word, number or price is
# deleted, only letters or only digits are left. Paths, addresses, code and byte soup are not.
_PLAIN_TABLE = str.maketrans(dict.fromkeys(_APOSTROPHES + _TYPOGRAPHY + '"()[]{}<>,.;:!?*`-%$\u20ac\u00a3'))
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_FINISHED = re.compile(r"[.!?][\"'\u201d\u2019)\]*_`]*$")
_ELLIPSIS = re.compile(r"(?:\.\.\.|\u2026)[\"'\u201d\u2019)\]*_`]*$")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def _words(text: str) -> list[str]:
    """The unit of every count here: lower-case words, punctuation dropped."""
    return text.lower().translate(_WORD_TABLE).split()


def _quote(text: str) -> str:
    """A span of untrusted text for a one-line detail: control characters shown as escapes (a
    terminal must not obey them), a long span shortened to 'first words … last words'."""
    text = " ".join("".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text).split())
    if len(text) <= QUOTE_CHARS:
        return f"'{text}'"
    words = text.split()
    return f"'{' '.join(words[:5])} … {' '.join(words[-4:])}'"


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Examples:
    words: dict[str, list[str]]
    seeds: dict[tuple[str, ...], tuple[tuple[str, int], ...]]  # first words of a run -> where


def _grams(words: list[str]) -> zip[tuple[str, ...]]:
    return zip(*(words[k:] for k in range(COPY_SHARE_RUN_WORDS)), strict=False)


@lru_cache(maxsize=16)
def _index(examples: tuple[tuple[str, str], ...]) -> _Examples:
    """Every run of COPY_SHARE_RUN_WORDS words in the examples, keyed by its words."""
    words = {pid: _words(text) for pid, text in examples}
    seeds: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for pid, ws in words.items():
        for j, gram in enumerate(_grams(ws)):
            seeds.setdefault(gram, []).append((pid, j))
    return _Examples(words, {k: tuple(v) for k, v in seeds.items()})


@dataclass(frozen=True)
class _Run:
    persona: str
    start: int  # in the review's words
    length: int


def _shared_runs(review: list[str], index: _Examples) -> list[_Run]:
    """The maximal runs of at least COPY_SHARE_RUN_WORDS words the review shares with an example."""
    grams = list(_grams(review))
    common = index.seeds.keys() & grams  # most reviews share no run at all: done here
    runs = []
    n = len(review)
    for i, gram in enumerate(grams):
        if gram not in common:
            continue
        for pid, j in index.seeds[gram]:
            ex = index.words[pid]
            if i and j and review[i - 1] == ex[j - 1]:
                continue  # inside a run that started earlier
            k = COPY_SHARE_RUN_WORDS
            while i + k < n and j + k < len(ex) and review[i + k] == ex[j + k]:
                k += 1
            runs.append(_Run(pid, i, k))
    return runs


@dataclass(frozen=True)
class Figures:
    """What the flags are decided on; bench/quality.py prints them to set the thresholds."""

    longest_run: int = 0  # words shared with one example, in one run
    longest_run_example: str = ""
    longest_run_text: str = ""  # normalised words
    copied_share: float = 0.0  # of the review's words, in runs of COPY_SHARE_RUN_WORDS+ with one example
    copied_share_example: str = ""
    repeated_sentence: str = ""  # the sentence of REPEAT_SENTENCE_WORDS+ words said most often
    repeated_times: int = 0
    compression: float | None = None  # zlib size / size; None under REPEAT_MIN_CHARS
    plain_share: float | None = None  # plain words among tokens; None under STRUCTURE_MIN_WORDS
    function_share: float | None = None  # function words among words; None likewise
    longest_sentence: int = 0  # words
    ending: str = ""  # the last token, when the text is unfinished
    trails_off: bool = False


# What each measurement adds to Figures: its fields, by name, so `figures` is checked against it.
class _Copying(TypedDict, total=False):
    longest_run: int
    longest_run_example: str
    longest_run_text: str
    copied_share: float
    copied_share_example: str


class _Repetition(TypedDict, total=False):
    repeated_sentence: str
    repeated_times: int
    compression: float


class _Structure(TypedDict, total=False):
    longest_sentence: int
    plain_share: float
    function_share: float


class _Ending(TypedDict, total=False):
    ending: str
    trails_off: bool


def _copying(words: list[str], examples: Mapping[str, str]) -> _Copying:
    if len(words) < COPY_SHARE_RUN_WORDS or not examples:
        return {}
    runs = _shared_runs(words, _index(tuple(sorted(examples.items()))))
    if not runs:
        return {}
    longest = max(runs, key=lambda r: (r.length, r.persona))
    shares = {}
    for pid in {r.persona for r in runs}:
        covered = {i for r in runs if r.persona == pid for i in range(r.start, r.start + r.length)}
        shares[pid] = len(covered) / len(words)
    share_pid = max(sorted(shares), key=shares.__getitem__)
    return {
        "longest_run": longest.length,
        "longest_run_example": longest.persona,
        "longest_run_text": " ".join(words[longest.start : longest.start + longest.length]),
        "copied_share": shares[share_pid],
        "copied_share_example": share_pid,
    }


def _repetition(text: str, sentences: list[str]) -> _Repetition:
    said = Counter(" ".join(s.lower().split()) for s in sentences)
    loops = [(s, n) for s, n in said.items() if n > 1 and s.count(" ") + 1 >= REPEAT_SENTENCE_WORDS]
    found: _Repetition = {}
    if loops:
        key, found["repeated_times"] = max(loops, key=lambda item: item[1])
        found["repeated_sentence"] = next(s for s in sentences if " ".join(s.lower().split()) == key)
    data = text.encode()
    if len(data) >= REPEAT_MIN_CHARS:
        found["compression"] = len(zlib.compress(data)) / len(data)
    return found


def _structure(text: str, words: list[str], sentences: list[str]) -> _Structure:
    found: _Structure = {"longest_sentence": max((len(s.split()) for s in sentences), default=0)}
    tokens = text.translate(_PLAIN_TABLE).split()
    if len(tokens) >= STRUCTURE_MIN_WORDS:
        found["plain_share"] = (sum(map(str.isalpha, tokens)) + sum(map(str.isdigit, tokens))) / len(tokens)
        found["function_share"] = sum(map(FUNCTION_WORDS.__contains__, words)) / max(len(words), 1)
    return found


def _ending(text: str) -> _Ending:
    end = text.rstrip()
    if not end:
        return {}
    if _ELLIPSIS.search(end):
        return {"ending": end.split()[-1][-30:], "trails_off": True}
    if not _FINISHED.search(end):
        return {"ending": end.split()[-1][-30:]}
    return {}


def figures(review: str, examples: Mapping[str, str]) -> Figures:
    """Everything the flags look at, measured once."""
    words = _words(review)
    sentences = [s for s in _SENTENCE_END.split(review) if s and not s.isspace()]
    return Figures(
        **_copying(words, examples),
        **_repetition(review, sentences),
        **_structure(review, words, sentences),
        **_ending(review),
    )


# --- flags ----------------------------------------------------------------------------------


def _copy_detail(f: Figures) -> str | None:
    if f.longest_run >= COPY_RUN_WORDS:
        return (
            f"a {f.longest_run}-word run shared with the {f.longest_run_example} example: "
            f"{_quote(f.longest_run_text)}"
        )
    if f.copied_share >= COPY_SHARE:
        return (
            f"{f.copied_share:.0%} of its words are in runs of {COPY_SHARE_RUN_WORDS}+ words shared with "
            f"the {f.copied_share_example} example (an edited copy?), e.g. {_quote(f.longest_run_text)}"
        )
    return None


def _degenerate_details(f: Figures) -> list[str]:
    found = []
    if f.repeated_times:
        found.append(f"repeats itself: says {_quote(f.repeated_sentence)} {f.repeated_times} times")
    elif f.compression is not None and f.compression < REPEAT_COMPRESSION:
        found.append(f"repeats itself: compresses to {f.compression:.0%} of its length")
    if f.plain_share is not None and f.plain_share < STRUCTURE_WORD_SHARE:
        found.append(
            f"no sentence structure: only {f.plain_share:.0%} of its tokens are plain words (paths, code?)"
        )
    elif f.function_share is not None and f.function_share < STRUCTURE_FUNCTION_SHARE:
        found.append(
            f"no sentence structure: {f.function_share:.0%} function words such as 'the' and 'is' "
            f"(under {STRUCTURE_FUNCTION_SHARE:.0%} is word salad)"
        )
    elif f.longest_sentence > STRUCTURE_SENTENCE_WORDS:
        found.append(f"no sentence structure: a {f.longest_sentence}-word sentence")
    if f.trails_off:
        found.append(f"unfinished: trails off on {_quote(f.ending)}")
    elif f.ending:
        found.append(f"unfinished: ends on {_quote(f.ending)}")
    return found


def quality_flags(review: str, examples: Mapping[str, str]) -> list[QualityFlag]:
    """The draft-quality flags of one review: at most one per kind, each saying what fired.

    `examples` maps persona id -> that persona's worked example review; a review is checked
    against all of them, since a weak model copies whichever example it was shown.
    """
    f = figures(review, examples)
    flags = []
    if copy := _copy_detail(f):
        flags.append(QualityFlag(kind="copies-example", detail=copy))
    if details := _degenerate_details(f):
        flags.append(QualityFlag(kind="degenerate", detail="; ".join(details)))
    return flags


# --- thin material --------------------------------------------------------------------------


def content_words(tool: Tool) -> set[str]:
    """Distinct words of the description and sources that say something: not function words,
    not the tool's own name, not numbers or URLs."""
    name = set(_words(tool.name))
    text = _URL.sub(" ", " ".join([tool.description, *(s.text for s in tool.sources)]))
    return {w for w in _words(text) if w.isalpha() and w not in FUNCTION_WORDS and w not in name}


def thin_material(tool: Tool) -> str | None:
    """A warning when the tool's description and sources are too short to judge, else None."""
    found = len(content_words(tool))
    if found >= MATERIAL_MIN_WORDS:
        return None
    return (
        f"too little to review: the description and sources hold {found} distinct content "
        f"word{'s' if found != 1 else ''} (a panel needs at least {MATERIAL_MIN_WORDS}); say what "
        "the tool does, for whom and how, or add an excerpt of its docs as a source"
    )
