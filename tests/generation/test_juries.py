"""Juries in the runner: member jobs, votes, the rules that combine them, reuse and recusal.

Unit tests of the code above the engine: a scripted engine answers each member with the score
the test gives it. tests/generation/test_juries_server.py runs the same on the real vLLM server.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import ClassVar

import pytest

import panel.engines.pool as engine_pool
from panel.engines.base import Engine, GenRequest, GenResult
from panel.errors import ConfigError, InputError
from panel.generation.session import Session
from panel.records import Tool, ToolPanel
from panel.records.store import load_record

PERSONAS = ("builder", "skeptic", "futurist", "founder")
MODELS = """default: a
models:
  a: {engine: transformers, model: x, temperature: 0.2}
  b: {engine: transformers, model: y, temperature: 0.9}
  c: {engine: transformers, model: z, family: mistral}
  d: {engine: transformers, model: w}
juries:
  trio: {members: [a, b, c], quorum: 2}
  reversed: {members: [c, b, a], quorum: 2}
  quad: {members: [a, b, c, d], quorum: 2}
  strict: {members: [a, b, c], quorum: 3}
"""
A = Tool(name="Quillstack", description="Docs from code.")
MISTRAL = Tool(
    name="Mistral Large 3", description="A large open-weight model.", url="https://mistral.ai/news"
)


def paragraph(profile: str) -> str:
    return " ".join([f"Member {profile} wrote this paragraph about the tool, in its own words."] * 6)


class JuryEngine(Engine):
    """Answers each profile with the score `scores[profile]` (or fails it: "fail")."""

    name = "scripted"
    calls: ClassVar[list[tuple[str, str]]] = []
    scores: ClassVar[dict[str, object]] = {}

    async def generate(self, r: GenRequest) -> GenResult:
        self.requests_sent += 1
        JuryEngine.calls.append((self.profile.name, r.persona))
        score = JuryEngine.scores.get(self.profile.name, 70)
        if score == "fail":
            return GenResult(r, text='{"persona": "', finish_reason="length")
        assert isinstance(score, int)
        branches = r.schema.get("anyOf", [r.schema])
        branch = next(
            b
            for b in branches
            if b["properties"]["score"]["minimum"] <= score <= b["properties"]["score"]["maximum"]
        )
        verdict = branch["properties"]["verdict"]["const"]
        body = {
            "persona": r.persona,
            "score": score,
            "verdict": verdict,
            "review": paragraph(self.profile.name),
        }
        return GenResult(
            r, text=json.dumps(body), finish_reason="stop", prompt_tokens=100, completion_tokens=50
        )


@pytest.fixture
def jury(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> type[JuryEngine]:
    JuryEngine.calls = []
    JuryEngine.scores = {}
    monkeypatch.setattr(engine_pool, "create_engine", lambda profile, say=None: JuryEngine(profile, say))
    (workdir / "models.yaml").write_text(MODELS)
    return JuryEngine


def run(tools: list[Tool], jury: str | None = "trio", **kwargs):
    session = Session.open(
        persona_ids=kwargs.pop("personas", None), jury=jury, model=kwargs.pop("model", None)
    )
    return asyncio.run(session.runner(**kwargs).run(tools))


def test_each_member_votes_and_the_review_is_the_median_and_the_majority(jury):
    jury.scores = {"a": 72, "b": 40, "c": 65}
    (outcome,) = run([A])
    assert sorted(jury.calls) == sorted((m, p) for m in "abc" for p in PERSONAS)
    review = outcome.panel.review_for("builder")
    assert (review.score, review.verdict) == (65, "ship")  # median of 72, 40, 65; 2 ship of 3
    assert review.review == paragraph("c")  # the member closest to the median
    assert [(v.profile, v.status, v.score, v.verdict) for v in review.jury.votes] == [
        ("a", "valid", 72, "ship"),
        ("b", "valid", 40, "skip"),
        ("c", "valid", 65, "ship"),
    ]
    assert [v.review for v in review.jury.votes] == [paragraph(m) for m in "abc"]
    assert review.jury.summary.spread == 32 and review.jury.summary.judges == 3
    definition = review.provenance.jury
    assert (definition.name, definition.members, definition.quorum) == ("trio", ["a", "b", "c"], 2)
    assert definition.digest.startswith("sha256:") and review.provenance.profile == "jury:trio"
    # Each member's own cache key and tokens; the jury review adds them up.
    keys = [v.provenance.cache_key for v in review.jury.votes]
    assert len(set(keys)) == 3 and review.provenance.completion_tokens == 150
    assert outcome.panel.summary.verdict == "ship" and outcome.generated == 12


def test_a_rerun_makes_no_request_and_a_new_member_runs_alone(jury):
    jury.scores = {"a": 72, "b": 40, "c": 65, "d": 90}
    first = run([A])[0]
    jury.calls.clear()
    again = run([A])[0]
    assert jury.calls == [] and again.status == "unchanged"
    assert again.panel == load_record(first.path, ToolPanel).record
    # A fourth member: one request per persona, by the new member only; three votes reused.
    fourth = run([A], jury="quad")[0]
    assert sorted(jury.calls) == sorted(("d", p) for p in PERSONAS)
    review = fourth.panel.review_for("skeptic")
    assert [v.profile for v in review.jury.votes] == ["a", "b", "c", "d"]
    assert review.score == 69 and review.verdict == "ship"  # median of 40, 65, 72, 90 is 68.5
    assert review.provenance.jury.digest != first.panel.review_for("skeptic").provenance.jury.digest
    assert fourth.reused == 12 and fourth.generated == 4


def test_one_failed_member_and_a_one_one_tie_is_split_whatever_the_member_order(jury):
    jury.scores = {"a": 80, "b": "fail", "c": 30}
    outcome = run([A])[0]
    review = outcome.panel.review_for("founder")
    assert review.verdict == "split" and review.score == 55
    assert review.jury.summary.tally.line() == "1 ship / 1 skip / 1 failed"
    failed = review.jury.vote_of("b")
    assert failed.status == "failed" and "token limit twice" in failed.reason
    assert any(
        f.startswith("split: the jury has no majority (1 ship / 1 skip / 1 failed)") for f in review.flags
    )
    assert outcome.panel.summary.verdict == "split" and outcome.panel.summary.split == 4
    # The failure is reported (exit code 1, errors.jsonl) though the persona has a review.
    assert {f.persona for f in outcome.failures} == set(PERSONAS)
    assert all("jury member b" in f.reason for f in outcome.failures)
    # The same votes listed the other way round: the same split and the same paragraph.
    (Path("outputs/panels/quillstack.json")).unlink()
    backwards = run([A], jury="reversed")[0].panel.review_for("founder")
    assert (backwards.verdict, backwards.score, backwards.review) == (
        review.verdict,
        review.score,
        review.review,
    )


def test_the_failed_member_alone_runs_again_and_can_settle_the_split(jury):
    jury.scores = {"a": 80, "b": "fail", "c": 30}
    run([A])
    jury.calls.clear()
    jury.scores["b"] = 75
    outcome = run([A])[0]
    assert sorted(jury.calls) == sorted(("b", p) for p in PERSONAS)
    review = outcome.panel.review_for("builder")
    assert (review.verdict, review.score) == ("ship", 75) and review.review == paragraph("b")
    assert outcome.panel.summary.verdict == "ship" and not outcome.failures


def test_fewer_valid_votes_than_the_quorum_is_split(jury):
    jury.scores = {"a": 90, "b": 85, "c": "fail"}
    review = run([A], jury="strict")[0].panel.review_for("builder")
    assert review.verdict == "split" and review.jury.summary.tally.ship == 2  # 2 of 2 ship, quorum 3
    jury.scores = {"a": 90, "b": "fail", "c": "fail"}
    review = run([Tool(name="Other", description="d")])[0].panel.review_for("builder")
    assert review.verdict == "split" and review.review == paragraph("a")


def test_no_valid_vote_at_all_is_a_failed_review(jury):
    jury.scores = {"a": "fail", "b": "fail", "c": "fail"}
    panel = run([A])[0].panel
    assert panel.reviews == [] and len(panel.failures) == 4
    assert panel.failures[0].reason.startswith("no valid vote from jury trio: a: ")
    assert panel.failures[0].diagnosis == "truncated"


def test_a_member_of_the_tools_vendor_is_recused_and_not_asked(jury):
    jury.scores = {"a": 80, "b": 30, "c": 90}
    outcome = run([MISTRAL])[0]
    assert {m for m, _ in jury.calls} == {"a", "b"}
    review = outcome.panel.review_for("builder")
    recused = review.jury.vote_of("c")
    assert recused.status == "recused" and recused.provenance is None
    assert recused.reason == "recused: same vendor as the tool (the tool's name says Mistral)"
    # The quorum counts the two members left: 1 ship / 1 skip is split.
    assert review.verdict == "split" and review.jury.summary.judges == 2
    assert review.jury.summary.tally.line() == "1 ship / 1 skip / 1 recused"
    jury.calls.clear()
    assert run([MISTRAL])[0].status == "unchanged" and jury.calls == []


def test_a_single_profile_of_the_tools_vendor_is_used_but_flagged(jury):
    outcome = run([MISTRAL], jury=None, model="c")[0]
    assert len(jury.calls) == 4
    summary = outcome.panel.summary
    assert summary.conflicts == list(PERSONAS)
    from panel.records import conflict

    assert conflict(outcome.panel.reviews[0], MISTRAL) == (
        "c is a model of the tool's own vendor (the tool's name says Mistral)"
    )
    assert run([A], jury=None, model="c")[0].panel.summary.conflicts == []


def test_a_persona_may_name_its_own_jury(jury, workdir: Path):
    from conftest import REPO

    (workdir / "personas").mkdir()
    src = REPO / "personas" / "skeptic.yaml"
    (workdir / "personas" / "skeptic.yaml").write_text(src.read_text() + "jury: trio\n")
    panel = run([A], jury=None)[0].panel
    assert panel.review_for("skeptic").jury is not None
    assert panel.review_for("builder").jury is None and panel.review_for("builder").provenance.profile == "a"
    assert sorted(m for m, p in jury.calls if p == "skeptic") == ["a", "b", "c"]


def test_a_review_one_profile_wrote_becomes_that_members_vote(jury):
    jury.scores = {"a": 72, "b": 40, "c": 65}
    run([A], jury=None, model="a")
    jury.calls.clear()
    review = run([A])[0].panel.review_for("builder")
    assert sorted({m for m, _ in jury.calls}) == ["b", "c"]  # a's own review is its vote
    assert review.jury.vote_of("a").score == 72 and review.score == 65


def test_unknown_jury_and_model_with_jury_are_refused(jury):
    with pytest.raises(ConfigError, match="unknown jury 'nine'"):
        run([A], jury="nine")
    with pytest.raises(InputError, match="--model or --jury, not both"):
        run([A], model="a")


@pytest.mark.parametrize(
    ("juries", "message"),
    [
        ("{t: {members: [a, zz], quorum: 1}}", "'zz' is not among models"),
        ("{t: {members: [a, b], quorum: 3}}", "quorum: 3 is more than the 2 members"),
        ("{t: {members: [a, a], quorum: 1}}", "listed twice"),
        ("{t: {members: [a, b], quorum: 1, verdict: mean}}", "verdict"),
        ("{t: {members: [a], quorum: 1}}", "members"),
    ],
)
def test_bad_juries_in_models_yaml(workdir: Path, juries: str, message: str):
    from panel.engines.profiles import load_models

    path = workdir / "models.yaml"
    path.write_text(
        "default: a\nmodels:\n  a: {engine: transformers, model: x}\n  b: {engine: transformers, model: y}\n"
        f"juries: {juries}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_models(path)
    assert message in info.value.line() and str(path) in info.value.line()
