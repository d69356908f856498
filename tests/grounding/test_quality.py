"""Draft-quality flags: copies of a persona's worked example, degenerate text, thin material.

The examples copied from are the built-in personas' own; the labelled set is tests/data/quality/.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import quality as quality_bench  # bench/quality.py
import yaml

from panel.grounding.ground import examples_of
from panel.grounding.quality import (
    COPY_RUN_WORDS,
    MATERIAL_MIN_WORDS,
    figures,
    quality_flags,
    thin_material,
)
from panel.inputs.personas import load_personas
from panel.records import Source, Tool

import tinymodel
from factory import PARAGRAPH

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"
EXAMPLES = examples_of(load_personas())


def kinds(text: str, examples: dict[str, str] = EXAMPLES) -> dict[str, str]:
    return {f.kind: f.detail for f in quality_flags(text, examples)}


def cases(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


# --- copies-example -----------------------------------------------------------------------------


def test_the_examples_are_the_personas_own():
    assert set(EXAMPLES) == {"builder", "skeptic", "futurist", "founder"}


def test_a_review_repeating_a_persona_example_copies_it():
    for persona, example in EXAMPLES.items():
        detail = kinds(example)["copies-example"]
        run = re.match(rf"a (\d+)-word run shared with the {persona} example: '", detail)
        assert run and int(run.group(1)) >= len(example.split()) - 2, detail  # the whole example


def test_the_example_with_the_tool_name_swapped_still_copies_it():
    text = EXAMPLES["skeptic"].replace("Tidemark", "Shoreline")
    detail = kinds(text)["copies-example"]
    assert "-word run shared with the skeptic example" in detail
    assert "…" in detail and len(detail) < 160  # a long run is quoted by its ends, not whole


def test_one_copied_sentence_in_a_review_of_its_own_is_a_copy():
    text = (
        "Porchlight keeps feature flags as files in the repository and serves them with a small agent. "
        "What earns the ship is the signing: replaying only migrations that a reviewer approved closes "
        "a real gap that the shell loop leaves open. Its weak spot is the emergency switch during an "
        "incident, when nobody wants to wait for CI. Ship it for teams that review config changes."
    )
    detail = kinds(text)["copies-example"]
    assert detail.startswith("a 24-word run shared with the builder example: 'what earns the ship is")


def test_a_copy_edited_every_few_words_is_caught_by_its_share_of_shared_runs():
    edited = next(c for c in cases("reviews.yaml") if c["id"] == "copy-builder-edited-throughout")["text"]
    assert figures(edited, EXAMPLES).longest_run < COPY_RUN_WORDS
    detail = kinds(edited)["copies-example"]
    assert "of its words are in runs of 5+ words shared with the builder example" in detail


def test_stock_phrases_of_a_voice_are_not_a_copy():
    text = next(c for c in cases("reviews.yaml") if c["id"] == "futurist-shoreline")["text"]
    assert figures(text, EXAMPLES).longest_run == 8  # "and it is on time rather than early"
    assert kinds(text) == {}


def test_copying_is_judged_against_the_examples_given():
    text = EXAMPLES["founder"]
    assert "copies-example" in kinds(text, {"founder": text})
    assert "copies-example" not in kinds(text, {"builder": EXAMPLES["builder"]})
    assert "copies-example" not in kinds(text, {})


# --- degenerate ---------------------------------------------------------------------------------


def test_a_thousand_characters_of_one_phrase_is_degenerate():
    text = ("Ship it because it is good " * 40)[:1000]
    detail = kinds(text)["degenerate"]
    assert "repeats itself: compresses to" in detail


def test_a_sentence_said_again_and_again_is_degenerate():
    sentence = "The scenario where it breaks is an incident that needs a flag off in seconds. "
    text = "LaunchDarkly and Unleash already sell flags with audit logs. " + sentence * 3
    detail = kinds(text)["degenerate"]
    assert detail == "repeats itself: says 'The scenario where it breaks … flag off in seconds' 3 times"


def test_a_repeated_path_fragment_is_degenerate():
    text = "The first hour is spent in " + "src/porch/agent/" * 70
    detail = kinds(text)["degenerate"]
    assert "repeats itself: compresses to" in detail
    assert "unfinished: ends on" in detail


def test_paths_and_addresses_instead_of_words_have_no_sentence_structure():
    rng = random.Random(5)
    text = " ".join(
        f"/var/lib/{rng.randbytes(4).hex()}/store.db https://{rng.randbytes(3).hex()}.example"
        for _ in range(12)
    )
    detail = kinds(text + ".")["degenerate"]
    assert "no sentence structure: only 0% of its tokens are plain words (paths, code?)" in detail


def test_word_salad_has_no_sentence_structure():
    words = [w for w in tinymodel._WORDS if len(w) > 5]  # content words: rival, latency, schema ...
    rng = random.Random(3)
    text = " ".join(rng.choice(words) for _ in range(90)) + "."
    detail = kinds(text)["degenerate"]
    assert re.search(r"no sentence structure: \d+% function words such as 'the' and 'is'", detail)


def test_a_review_with_no_full_stops_has_no_sentence_structure():
    review = next(c for c in cases("reviews.yaml") if c["id"] == "builder-tallyho-long")["text"]
    run_on = review.replace(". ", ", ")  # the same words, one sentence
    assert kinds(review) == {}
    assert kinds(run_on)["degenerate"] == "no sentence structure: a 191-word sentence"


@pytest.mark.parametrize(
    ("ending", "shown"),
    [
        ("a reload signal gets close, making", "'making'"),
        ("plausible for the SDK alone; however,", "'however,'"),
        ("the business depends on support contracts, and", "'and'"),
        ("the rule list is what decides the deploym", "'deploym'"),
        ("Here is what the first hour looks like:", "'like:'"),
        ("the line between configuration and code...", "trails off on 'code...'"),
        ("the line between configuration and code…", "trails off on 'code…'"),
    ],
)
def test_an_unfinished_last_sentence_is_degenerate(ending: str, shown: str):
    detail = kinds(f"{PARAGRAPH} {ending}")["degenerate"]
    assert detail.startswith("unfinished:") and shown in detail


@pytest.mark.parametrize(
    "ending",
    [
        "I would call it promising.",
        'I would call it "promising."',
        "I would call it ‘promising.’",
        "(Ship for staging now.)",
        "Would a finance team accept anything less?",
        "Ship it!",
        "Ship it.  \n",
    ],
)
def test_a_finished_last_sentence_is_not_flagged(ending: str):
    assert kinds(f"{PARAGRAPH} {ending}") == {}


def test_text_from_the_random_tiny_model_is_degenerate():
    """What the project's tests generate: JSON-legal noise over tests/tinymodel.py's vocabulary."""
    rng = random.Random(7)
    vocabulary = tinymodel._WORDS  # the tiny tokenizer's corpus words
    for _ in range(20):
        pieces = [
            rng.choice(vocabulary) + rng.choice(["", "", " ", "7", "{", "ion", ";()"]) for _ in range(120)
        ]
        text = " ".join(pieces)
        assert "no sentence structure" in kinds(text)["degenerate"], text
    for case in cases("tinymodel.yaml"):  # real replies of the tiny model, from a test run
        assert "no sentence structure" in kinds(case["text"])["degenerate"]


@pytest.mark.engine
def test_fresh_output_of_the_tiny_model_is_degenerate(tiny_model: Path):
    """Sampled now from the random-weight model the engine tests use."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    torch.manual_seed(0)
    prompt = tokenizer("The review:", return_tensors="pt")
    out = model.generate(**prompt, do_sample=True, max_new_tokens=200, num_return_sequences=3)
    for sequence in out:
        text = tokenizer.decode(sequence[prompt["input_ids"].shape[1] :], skip_special_tokens=True)
        assert "no sentence structure" in kinds(text)["degenerate"], text


# --- normal reviews -----------------------------------------------------------------------------


def test_normal_reviews_get_no_flag():
    clean = [c for c in cases("reviews.yaml") if not c["flags"]]
    assert len(clean) >= 28
    for case in clean:
        assert quality_flags(case["text"], EXAMPLES) == [], case["id"]
    assert quality_flags(PARAGRAPH, EXAMPLES) == []  # the text other tests' records carry


def test_empty_and_blank_text_raise_nothing():
    assert quality_flags("", EXAMPLES) == []
    assert quality_flags("   \n", EXAMPLES) == []


# --- thin material ------------------------------------------------------------------------------


def test_a_one_word_description_is_thin():
    warning = thin_material(Tool(name="Gullwing", description="ok"))
    assert warning is not None
    assert f"1 distinct content word (a panel needs at least {MATERIAL_MIN_WORDS})" in warning


def test_the_name_an_address_and_function_words_say_nothing():
    address = "https://driftnet.example/docs/getting-started/install-the-agent-on-linux-servers"
    for description in (
        "Driftnet",
        f"Driftnet {address}",
        "It is what it is, and it will be what we can do for all of them.",
    ):
        warning = thin_material(Tool(name="Driftnet", description=description))
        assert warning and "hold 0 distinct content words" in warning, description


def test_an_ordinary_two_sentence_blurb_is_enough():
    blurb = "Pipewrench retries failed CI jobs. It reads the logs and reruns only flaky tests."
    assert thin_material(Tool(name="Pipewrench", description=blurb)) is None


def test_sources_count_towards_the_material():
    readme = Source(
        title="README",
        text="Shoreline runs in CI on every pull request that adds a migration and fails the check "
        "when a statement would hold a long lock on a busy Postgres table.",
    )
    assert thin_material(Tool(name="Shoreline", description="A linter.")) is not None
    assert thin_material(Tool(name="Shoreline", description="A linter.", sources=[readme])) is None


# --- the labelled set ---------------------------------------------------------------------------


def test_precision_and_recall_on_the_labelled_set():
    scores = {s.flag: s for s in quality_bench.measure()}
    assert set(scores) == {"copies-example", "degenerate", "thin-material"}
    assert (
        scores["copies-example"].labelled,
        scores["degenerate"].labelled,
        scores["thin-material"].labelled,
    ) == (
        13,
        28,
        13,
    )
    for score in scores.values():
        assert (score.precision, score.recall) == (1.0, 1.0), score.row()


def test_the_labelled_set_is_well_formed():
    reviews = cases("reviews.yaml") + cases("tinymodel.yaml")
    ids = [c["id"] for c in reviews] + [c["id"] for c in cases("tools.yaml")]
    assert len(ids) == len(set(ids))
    for case in reviews:
        assert set(case) <= {"id", "voice", "flags", "note", "text"}
        assert set(case["flags"]) <= {"copies-example", "degenerate"}
        if not case["flags"]:  # a clean review is a review: 60-200 words
            assert 60 <= len(case["text"].split()) <= 200, case["id"]
