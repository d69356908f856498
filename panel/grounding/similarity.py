"""How alike the personas' paragraphs about one tool are: TF-IDF vectors and their cosine.

Four voices saying the same thing are one voice. The figure is computed per panel when the
record is indexed (panel/index/database.py), so `panel stats` never needs the texts. The IDF is per tool:
the documents are that tool's reviews only, so the tool's own name and the words every review of
it must use weigh least, and what remains is what each persona chose to say.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

# Function words carry no view of the tool; left in, any two English paragraphs look alike.
_FUNCTION_WORDS = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each even few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    may me might more most much must my no nor not now of off on once one only or other our ours
    out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up upon us very was we were what when where which
    while who whom why will with would yet you your yours"""
STOPWORDS = frozenset(_FUNCTION_WORDS.split())


def tokens(text: str) -> list[str]:
    """Lower-cased words and numbers, without function words and one-letter tokens."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]


def tfidf(texts: Sequence[str]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors of these texts, IDF taken over the texts themselves.

    Sublinear term frequency (1 + log tf), so a word repeated five times does not outweigh four
    others; smoothed IDF, log((1 + n) / (1 + df)) + 1, so a word every text uses still counts
    (two identical texts must come out identical, not empty).
    """
    counts = [Counter(tokens(t)) for t in texts]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(texts)
    idf = {w: math.log((1 + n) / (1 + d)) + 1 for w, d in df.items()}
    vectors = []
    for c in counts:
        v = {w: (1 + math.log(tf)) * idf[w] for w, tf in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values()))
        vectors.append({w: x / norm for w, x in v.items()} if norm else {})
    return vectors


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two unit vectors: 0 (no word in common) to 1 (the same words, same weights)."""
    if len(b) < len(a):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())


def pairwise(texts: Mapping[str, str]) -> list[tuple[str, str, float]]:
    """(a, b, similarity) for every pair of texts, keys in the order given. A text with no
    words left (all function words) is similar to nothing."""
    keys = list(texts)
    vectors = dict(zip(keys, tfidf([texts[k] for k in keys]), strict=True))
    return [(a, b, round(min(1.0, cosine(vectors[a], vectors[b])), 4)) for a, b in combinations(keys, 2)]
