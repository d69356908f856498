"""Fitting a long page into a source: the passages with specifics kept, in order, under their
headings, what was left out named, and one-character tokens ("$5") counted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from panel.intake.passages import fit, tokens
from panel.intake.sources import allocate, unique_titles

FILLER = "This paragraph talks about the project's history and its community in general terms. " * 6


def long_page() -> str:
    parts = ["# Orrery", "Orrery schedules batch jobs across a fleet."]
    for n in range(30):
        parts += [f"## Section {n}", FILLER]
    parts[24:24] = ["## Pricing", "The Team plan costs $5 per seat per month; Solo is free."]
    parts[40:40] = ["## License", "Orrery is released under the Apache-2.0 license, version 4.2 since 2025."]
    return "\n\n".join(parts)


def test_short_text_is_kept_whole():
    assert fit("# A\n\nShort.", 100).text == "# A\n\nShort." and fit("x", 10).left_out == ""


def test_the_passages_with_specifics_are_kept_in_order_with_their_headings():
    page = long_page()
    chosen = fit(page, 3000)
    assert len(chosen.text) <= 3000 < len(page)
    text = chosen.text
    assert "## Pricing\n\nThe Team plan costs $5 per seat per month" in text
    assert "## License\n\nOrrery is released under the Apache-2.0 license" in text
    assert text.index("## Pricing") < text.index("## License")
    assert text.startswith("# Orrery\n\nOrrery schedules batch jobs")  # the opening stays
    assert chosen.left_out.startswith("Left out ") and "Section 29" in chosen.left_out
    assert "to stay within 3,000 characters" in chosen.left_out


def test_one_character_tokens_count():
    assert tokens("$5 per seat, 5% off, v2") == ["$", "5", "per", "seat", "5", "%", "off", "v2"]


def test_a_code_fence_cut_in_two_does_not_swallow_the_rest():
    page = "# Licence\n\n```\n" + "\n".join(f"line {n} of a long licence text" for n in range(900)) + "\n```"
    chosen = fit(page, 2000)
    assert "```" not in chosen.text and len(chosen.text) <= 2000


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=40), st.integers(50, 3000))
def test_the_fit_never_exceeds_its_limit(blocks: list[str], limit: int):
    assert len(fit("\n\n".join(blocks), limit).text) <= limit


def test_budgets_are_shared_fairly_within_every_limit():
    assert allocate([100, 50_000, 30_000, 10_000], 60_000) == [100, 20_000, 20_000, 10_000]
    assert allocate([70_000, 70_000, 70_000], 60_000) == [20_000, 20_000, 20_000]
    assert sum(allocate([40_000, 40_000, 40_000, 40_000], 50_000)) <= 50_000
    assert allocate([5], 0) == [0]


def test_titles_are_made_unique():
    assert unique_titles(["Docs page", "Docs page", "Home page"], ["Docs page"]) == [
        "Docs page (2)",
        "Docs page (3)",
        "Home page",
    ]
