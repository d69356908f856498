"""The span helpers the claim rules read names with."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.grounding.spans import has_word

_TEXT = st.text(alphabet="ab_ -.+Ω9é\n", max_size=30)


@settings(max_examples=500, deadline=None)
@given(_TEXT, st.text(alphabet="ab_-.+Ω9é", min_size=1, max_size=4))
def test_has_word_finds_what_the_bounded_pattern_finds(text: str, word: str) -> None:
    pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")
    assert has_word(text, word) == bool(pattern.search(text))


@pytest.mark.parametrize(
    ("text", "word", "found"),
    [
        ("Runs on Postgres.", "Postgres", True),
        ("Runs on PostgresQL.", "Postgres", False),
        ("a_Postgres b", "Postgres", False),
        ("Written in C++ and Go", "C++", True),
        ("Postgres", "Postgres", True),
        ("Postgres-compatible", "Postgres", True),
        ("", "Postgres", False),
    ],
)
def test_has_word(text: str, word: str, found: bool) -> None:
    assert has_word(text, word) is found
