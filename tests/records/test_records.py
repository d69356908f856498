"""The record contract: derived fields, decisions, schemas, and the decoding schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from panel.records import (
    Comparison,
    Review,
    ReviewEntry,
    ReviewFailure,
    Tool,
    ToolPanel,
    json_schema,
    review_decoding_schema,
)

from factory import provenance

TEXT = " ".join(["word"] * 70)


def entry(persona: str, score: int, verdict: str | None = None, threshold: int = 60) -> ReviewEntry:
    return ReviewEntry(
        persona=persona,
        score=score,
        verdict=verdict or ("ship" if score >= threshold else "skip"),
        review=TEXT,
        provenance=provenance(ship_threshold=threshold),
    )


def panel(name: str, *scores: int, failed: int = 0) -> ToolPanel:
    ids = ["builder", "skeptic", "futurist", "founder", "creator"]
    return ToolPanel(
        tool=Tool(name=name, description="d"),
        reviews=[entry(ids[i], s) for i, s in enumerate(scores)],
        failures=[ReviewFailure(persona=ids[len(scores) + i], reason="x") for i in range(failed)],
    )


def test_summary_counts_and_percentages():
    s = panel("A", 85, 82, 78, 55).summary
    assert (s.ship, s.skip, s.ship_pct, s.verdict, s.mean_score) == (3, 1, 75, "ship", 75.0)
    assert s.complete


def test_ship_pct_rounds_half_up_and_two_of_four_is_split():
    assert panel("A", 90, 90, 10, 10).summary.ship_pct == 50
    assert panel("A", 90, 90, 10, 10).summary.verdict == "split"  # ship on a strict majority only
    assert panel("A", 90, 90, 10).summary.ship_pct == 67
    assert panel("A", 90, 10, 10).summary.verdict == "skip"


def test_failures_are_listed_and_make_the_panel_incomplete():
    p = panel("A", 90, 70, failed=2)
    assert p.summary.failed == 2 and not p.summary.complete
    assert p.summary.ship_pct == 100
    assert panel("A", failed=4).summary.verdict is None


def test_derived_fields_in_a_file_are_recomputed_not_trusted():
    data = json.loads(panel("A", 90, 10, 10, 10).model_dump_json())
    data["summary"] = {"ship": 4, "skip": 0, "ship_pct": 100, "verdict": "ship"}
    data["reviews"][1]["flags"] = []
    reloaded = ToolPanel.model_validate(data)
    assert reloaded.summary.ship == 1 and reloaded.summary.ship_pct == 25


def test_disagreeing_verdict_is_flagged():
    e = entry("builder", 40, verdict="ship")
    assert e.contradicts
    assert e.flags[0].startswith("verdict-disagrees")
    assert not entry("builder", 60).contradicts


def test_persona_thresholds_decide_the_expected_verdict():
    assert not entry("skeptic", 70, "skip", threshold=75).contradicts
    assert entry("skeptic", 70, "ship", threshold=75).contradicts


@pytest.mark.parametrize(
    ("scores_a", "scores_b", "outcome", "winner"),
    [
        ((90, 90, 90, 40), (90, 90, 40, 40), "ship-with", "A"),  # higher ship %
        ((70, 70, 70, 70), (90, 90, 90, 90), "ship-with", "B"),  # same ship %, higher mean
        ((70, 70, 70, 70), (70, 70, 70, 70), "split", None),  # exact tie
        ((10, 10, 10, 10), (20, 20, 20, 20), "neither", None),  # nobody ships
    ],
)
def test_decision(scores_a, scores_b, outcome, winner):
    c = Comparison(panels=[panel("A", *scores_a), panel("B", *scores_b)])
    assert c.decision.outcome == outcome
    assert c.decision.winner == winner
    assert c.title == "A vs B"


def test_comparison_needs_two_panels():
    with pytest.raises(ValidationError):
        Comparison(panels=[panel("A", 90)])


def test_duplicate_persona_in_a_panel_is_rejected():
    with pytest.raises(ValidationError, match="more than once"):
        ToolPanel(tool=Tool(name="A", description="d"), reviews=[entry("builder", 90), entry("builder", 80)])


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"description": "d"}, "name"),
        ({"name": "  ", "description": "d"}, "name"),
        ({"name": "A"}, "description"),
        ({"name": 5, "description": "d"}, "name"),
        ({"name": "A", "description": "d", "bogus": 1}, "bogus"),
        ({"name": "A", "description": "d", "url": "javascript:alert(1)"}, "url"),
        ({"name": "A" * 201, "description": "d"}, "name"),
        ({"name": "A", "description": "d", "pricing": {"entry": "<b>"}}, "pricing"),
    ],
)
def test_bad_tools_are_rejected(fields, problem):
    with pytest.raises(ValidationError) as info:
        Tool.model_validate(fields)
    assert problem in str(info.value)


def test_pricing_entry_is_normalized():
    assert Tool(name="A", description="d", pricing={"entry": "Open Source"}).pricing.entry == "open-source"


@pytest.mark.parametrize("name", ["tool", "review", "panel", "comparison"])
def test_schemas_are_valid_draft_2020_12(name):
    schema = json_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_written_records_validate_against_their_schema():
    c = Comparison(panels=[panel("A", 90, 40), panel("B", 60, 61, failed=1)])
    jsonschema.validate(json.loads(c.model_dump_json()), json_schema("comparison"))
    bad = json.loads(c.model_dump_json())
    bad["panels"][0]["reviews"][0]["score"] = 150
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema("comparison"))


def test_decoding_schema_makes_a_disagreeing_verdict_impossible():
    schema = review_decoding_schema("builder", 60)
    ok = {"persona": "builder", "score": 60, "verdict": "ship", "review": "x" * 400}
    jsonschema.validate(ok, schema)
    for bad in (
        {**ok, "score": 59},  # ship below threshold
        {**ok, "verdict": "skip"},  # skip at threshold
        {**ok, "persona": "skeptic"},
        {**ok, "score": 101},
        {**ok, "review": "x" * 1201},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_decoded_replies_always_fit_the_validation_model():
    """The decoder's bounds sit inside the model's, so a valid-by-construction reply validates."""
    schema = review_decoding_schema("builder", 60)
    branch = schema["anyOf"][0]["properties"]["review"]
    longest = {
        "persona": "builder",
        "score": 99,
        "verdict": "ship",
        "review": "x" * (branch["maxLength"] + 5),
    }
    Review.model_validate(longest)
    shortest = {**longest, "review": "x" * branch["minLength"]}
    Review.model_validate(shortest)


def test_thresholds_at_the_edges_leave_one_branch():
    assert review_decoding_schema("a", 0)["properties"]["verdict"] == {"const": "ship"}
    assert review_decoding_schema("a", 101)["properties"]["verdict"] == {"const": "skip"}
