"""The jury rules (median, strict majority, quorum, the chosen paragraph), recusal, and what a
split does to a panel's verdict and to a comparison's decision."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from panel.records import (
    Comparison,
    JuryDefinition,
    ReviewEntry,
    Tool,
    ToolPanel,
    Vote,
    combine,
    decide,
    json_schema,
    median_score,
    registered_domain,
    vendor_match,
)
from panel.records.store import dump_record

from factory import jury_review, panel, provenance


@dataclass(frozen=True)
class B:
    score: int | None
    verdict: str | None
    review: str


def ballots(*scores: int) -> list[B]:
    return [B(s, "ship" if s >= 60 else "skip", f"paragraph {i}") for i, s in enumerate(scores)]


def test_median_is_a_whole_number_rounded_half_up():
    assert median_score([40, 65, 72]) == 65
    assert median_score([40, 65, 72, 90]) == 69  # 68.5
    assert median_score([58, 61]) == 60  # 59.5
    assert median_score([7]) == 7


def test_strict_majority_quorum_and_ties():
    assert combine(ballots(80, 30, 70), quorum=2).verdict == "ship"
    assert combine(ballots(80, 30), quorum=2).verdict == "split"  # 1-1
    assert combine(ballots(80, 70, 30, 20), quorum=2).verdict == "split"  # 2-2
    assert combine(ballots(80, 70), quorum=3).verdict == "split"  # 2 valid, quorum 3
    assert combine([None, *ballots(80, 70)], quorum=2).verdict == "ship"  # a failed member has no vote
    assert combine([None, None], quorum=1) is None


def test_the_closest_paragraph_and_its_tie_break_ignore_the_member_order():
    votes = ballots(58, 62, 70, 90)  # median 66: 62 and 70 are equally close, both ship
    chosen = {order[combine(list(order), 2).chosen].review for order in itertools.permutations(votes)}
    assert len(chosen) == 1
    # Equally close on either side of the threshold: the one that argues the jury's verdict.
    assert combine(ballots(40, 55, 65, 95), 2).verdict == "split"
    votes = ballots(30, 55, 65, 90, 95)  # median 65 exactly
    assert votes[combine(votes, 2).chosen].score == 65


@given(st.lists(st.integers(0, 100), min_size=1, max_size=7))
def test_the_outcome_does_not_depend_on_the_order(scores: list[int]):
    votes = ballots(*scores)
    first = combine(votes, 1)
    outcome = combine(list(reversed(votes)), 1)
    assert first is not None and outcome is not None
    assert (first.score, first.verdict) == (outcome.score, outcome.verdict)
    assert votes[first.chosen].review == list(reversed(votes))[outcome.chosen].review
    # With every member's verdict following its score, a majority verdict agrees with the median.
    if first.verdict != "split":
        assert first.verdict == ("ship" if first.score >= 60 else "skip")


def test_a_definition_has_a_digest_of_its_own_fields():
    d = JuryDefinition(name="trio", members=["a", "b", "c"], quorum=2)
    assert d.digest == JuryDefinition(name="trio", members=["a", "b", "c"], quorum=2).digest
    assert d.digest != JuryDefinition(name="trio", members=["a", "b", "c", "d"], quorum=2).digest
    assert d.digest != JuryDefinition(name="trio", members=["c", "b", "a"], quorum=2).digest
    # Computed, never read from a file.
    data = d.model_dump(mode="json") | {"digest": "sha256:forged"}
    assert JuryDefinition.model_validate(data).digest == d.digest


def test_votes_carry_what_their_status_needs():
    with pytest.raises(ValidationError, match="a valid vote has"):
        Vote(profile="a", status="valid", score=70)
    with pytest.raises(ValidationError, match="a failed vote has a reason"):
        Vote(profile="a", status="failed", score=70, verdict="ship", reason="x")
    Vote(profile="a", status="recused", reason="recused: same vendor as the tool")


def test_a_jury_review_round_trips_and_validates_against_the_published_schema():
    import jsonschema

    review = jury_review("skeptic", [("a", 80), ("b", "failed"), ("c", 30)])
    p = ToolPanel(tool=Tool(name="X", description="d"), reviews=[review])
    data = json.loads(p.model_dump_json())
    jsonschema.validate(data, json_schema("panel"))
    assert ToolPanel.model_validate(data) == p
    assert data["reviews"][0]["verdict"] == "split"
    assert data["reviews"][0]["jury"]["summary"] == {
        "tally": {"ship": 1, "skip": 1, "failed": 1, "recused": 0},
        "spread": 50,
        "judges": 3,
    }
    # Derived values in the file are dropped and recomputed, never trusted.
    data["reviews"][0]["jury"]["summary"]["spread"] = 0
    assert ToolPanel.model_validate(data).reviews[0].jury.summary.spread == 50


def test_records_written_before_juries_still_load():
    old = panel("Quillstack").model_dump(mode="json")
    for review in old["reviews"]:
        for key in ("jury", "family", "vendor"):
            review.pop(key, None)
            review["provenance"].pop(key, None)
    del old["tool"]["vendor"]
    loaded = ToolPanel.model_validate(old)
    assert loaded.summary.verdict == "ship" and loaded.reviews[0].jury is None


def test_two_ship_two_skip_is_a_split_panel_that_a_comparison_never_picks():
    even = panel("Evenly", (80, 30, 70, 20))
    s = even.summary
    assert (s.ship, s.skip, s.ship_pct, s.verdict) == (2, 2, 50, "split")
    assert json.loads(dump_record(even))["summary"]["verdict"] == "split"  # what --json prints
    weak = panel("Weakling", (30, 30, 30, 70))
    d = decide([even, weak])
    assert d.outcome == "neither" and d.winner is None
    assert "Evenly's panel is split (2 ship / 2 skip)" in d.reason
    printed = json.loads(dump_record(Comparison(panels=[even, weak])))
    assert printed["decision"] == {"outcome": "neither", "winner": None, "reason": d.reason}
    assert decide([even, panel("Both", (80, 30, 70, 20))]).outcome == "neither"
    strong = panel("Strong", (80, 70, 70, 20))
    assert decide([even, strong]).winner == "Strong"


def test_split_personas_are_left_out_of_the_ship_share_and_counted_apart():
    reviews = [
        jury_review("builder", [("a", 80), ("b", 30)]),  # split
        *panel("X", (0, 80, 70, 40)).reviews[1:],
    ]
    s = ToolPanel(tool=Tool(name="X", description="d"), reviews=reviews).summary
    assert (s.ship, s.skip, s.split, s.ship_pct, s.verdict) == (2, 1, 1, 67, "ship")
    assert s.mean_score == round((80 + 70 + 40) / 3, 1)
    only_split = ToolPanel(tool=Tool(name="X", description="d"), reviews=reviews[:1]).summary
    assert (only_split.verdict, only_split.ship_pct) == ("split", None)
    c = Comparison(panels=[ToolPanel(tool=Tool(name="X", description="d"), reviews=reviews), panel("Y")])
    assert "X: 1 persona split" in c.decision.reason


@pytest.mark.parametrize(
    ("tool", "family", "vendor", "match"),
    [
        (Tool(name="Mistral Large 3", description="d"), "mistral", None, "the tool's name says Mistral"),
        (Tool(name="Lumen", description="d", url="https://docs.mistral.ai/x"), "mistral", None, "mistral.ai"),
        (
            Tool(name="Lumen", description="d", vendor="Mistral AI"),
            None,
            "Mistral AI",
            "vendor is Mistral AI",
        ),
        (Tool(name="Llama 4 Scout", description="d"), "llama", None, "name says Llama"),
        (Tool(name="Lumen", description="d", vendor="Meta Platforms"), "llama", None, "vendor is Meta"),
        (Tool(name="Qwen3-Coder", description="d"), "qwen", None, "name says Qwen"),
        (Tool(name="Lumen", description="d", vendor="Alibaba Cloud"), "qwen", None, "Alibaba Cloud"),
        (Tool(name="Gemini CLI", description="d"), "gemma", None, "name says Gemini"),
        (Tool(name="Phi-4 mini", description="d"), "phi", None, "name says Phi"),
        (Tool(name="Lumen", description="d", url="https://ai.google.dev/"), "gemma", None, "google.dev"),
    ],
)
def test_recusal_matches_vendor_name_and_registered_domain(tool, family, vendor, match):
    found = vendor_match(family, vendor, tool)
    assert found is not None and match in found


@pytest.mark.parametrize(
    ("tool", "family"),
    [
        (Tool(name="Phind", description="d"), "phi"),  # a word, not a prefix
        (Tool(name="Metabase", description="d", vendor="Metabase Inc"), "llama"),
        (Tool(name="Quillstack", description="d", url="https://quillstack.example"), "mistral"),
        (Tool(name="Lumen", description="d", url="https://mistral.example.org"), "qwen"),
    ],
)
def test_recusal_does_not_match_lookalikes(tool, family):
    assert vendor_match(family, None, tool) is None
    assert vendor_match(None, None, Tool(name="Mistral", description="d")) is None  # nothing to match


def test_registered_domain_uses_the_public_suffix_list():
    assert registered_domain("https://docs.mistral.ai/guides") == "mistral.ai"
    assert registered_domain("https://www.example.co.uk/") == "example.co.uk"
    assert registered_domain("http://127.0.0.1:8000/") is None
    assert registered_domain("") is None


def test_a_split_review_has_no_verdict_disagreement_flag():
    review = jury_review("skeptic", [("a", 80), ("c", 30)])
    assert review.verdict == "split" and not review.contradicts
    assert review.flags[0] == "split: the jury has no majority (1 ship / 1 skip); an editor sets the verdict"
    single = ReviewEntry(persona="x", score=80, verdict="ship", review="word " * 80, provenance=provenance())
    assert not [f for f in single.flags if f.startswith("split")]
