"""The panel runner's own logic: reuse, failures, truncation, edits, mixed profiles.

These are unit tests of the code above the engine, so a scripted engine stands in for the
model here. The engines themselves are tested against real ones in test_engines.py.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import ClassVar

import pytest

import panel.generate as generation
from panel.engines.base import Engine, GenResult, as_async
from panel.records import Change, Tool, ToolPanel
from panel.session import Session
from panel.store import load_record, write_record

from conftest import EXAMPLES, REPO

TEXT = "A considered paragraph about the tool. " * 12


class ScriptedEngine(Engine):
    """Answers from a script keyed by persona; counts what it was asked."""

    name = "scripted"
    calls: ClassVar[list[tuple[str, str, int]]] = []
    script: ClassVar[dict[str, object]] = {}

    async def run(self, requests):
        async for r in as_async(requests):
            persona = r.key.split(":")[1]
            self.requests_sent += 1
            ScriptedEngine.calls.append((self.profile.name, persona, r.max_tokens))
            answer = ScriptedEngine.script.get(persona, "ok")
            if callable(answer):
                answer = answer(r)
            if answer == "ok":
                schema_branch = r.schema.get("anyOf", [r.schema])[0]
                score = schema_branch["properties"]["score"]["minimum"]
                verdict = schema_branch["properties"]["verdict"]["const"]
                text = json.dumps({"persona": persona, "score": score, "verdict": verdict, "review": TEXT})
                yield GenResult(r, text=text, finish_reason="stop", prompt_tokens=100, completion_tokens=50)
            elif isinstance(answer, GenResult):
                answer.request = r
                yield answer
            else:
                yield GenResult(r, text=str(answer), finish_reason="stop")


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, workdir: Path):
    ScriptedEngine.calls = []
    ScriptedEngine.script = {}
    monkeypatch.setattr(generation, "create_engine", lambda profile, say=None: ScriptedEngine(profile, say))
    (workdir / "models.yaml").write_text(
        "default: a\nmodels:\n  a: {engine: transformers, model: x}\n  b: {engine: transformers, model: y}\n"
    )
    return ScriptedEngine


def run(tools: list[Tool], **kwargs):
    session = Session.open(persona_ids=kwargs.pop("personas", None))
    return asyncio.run(session.runner(**kwargs).run(tools))


A = Tool(name="Quillstack", description="Docs from code.")
B = Tool(name="Ledgerlight", description="Billing by the token.")


def test_one_review_per_persona_and_reuse_on_rerun(scripted, workdir: Path):
    outcomes = run([A, B])
    assert [o.status for o in outcomes] == ["written", "written"]
    assert len(scripted.calls) == 8
    assert [r.persona for r in outcomes[0].panel.reviews] == ["builder", "skeptic", "futurist", "founder"]
    scripted.calls.clear()
    again = run([A, B])
    assert scripted.calls == []
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert again[0].panel == load_record(outcomes[0].path, ToolPanel).record


def test_changing_the_tool_text_reruns_only_that_tool(scripted):
    run([A, B])
    scripted.calls.clear()
    run([A.model_copy(update={"description": "Docs from code, now with diagrams."}), B])
    assert len(scripted.calls) == 4


def test_changing_one_persona_file_reruns_only_that_persona(scripted, workdir: Path):
    run([A])
    scripted.calls.clear()
    (workdir / "personas").mkdir()
    src = REPO / "personas" / "founder.yaml"
    (workdir / "personas" / "founder.yaml").write_text(
        src.read_text().replace("numbers first", "numbers always")
    )
    run([A])
    assert [c[1] for c in scripted.calls] == ["founder"]


def test_fresh_regenerates(scripted):
    run([A])
    scripted.calls.clear()
    run([A], fresh=True)
    assert len(scripted.calls) == 4


def test_a_fifth_persona_file_adds_one_review_and_reuses_four(scripted, workdir: Path):
    run([A])
    scripted.calls.clear()
    (workdir / "personas").mkdir()
    shutil.copy(EXAMPLES / "personas" / "creator.yaml", workdir / "personas")
    outcome = run([A])[0]
    assert [c[1] for c in scripted.calls] == ["creator"]
    assert len(outcome.panel.reviews) == 5 and outcome.panel.summary.ship == 5


def test_truncated_reply_is_retried_once_with_a_larger_budget_then_fails(scripted):
    scripted.script["skeptic"] = lambda r: GenResult(r, text='{"persona": "skep', finish_reason="length")
    outcome = run([A])[0]
    assert [(c[1], c[2]) for c in scripted.calls if c[1] == "skeptic"] == [
        ("skeptic", 1024),
        ("skeptic", 2048),
    ]
    assert [f.persona for f in outcome.panel.failures] == ["skeptic"]
    failure = outcome.panel.failures[0]
    assert "token limit twice" in failure.reason and failure.provenance.attempts == 2
    assert len(outcome.panel.reviews) == 3  # the others are kept


def test_truncation_then_success_on_retry(scripted):
    def first_cut(r):
        return GenResult(r, text="{", finish_reason="length") if r.attempt == 1 else "ok"

    scripted.script["builder"] = first_cut
    outcome = run([A])[0]
    builder = outcome.panel.review_for("builder")
    assert builder is not None and builder.provenance.attempts == 2
    assert not outcome.panel.failures


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Sure! Here is my review: great tool.", "not JSON although decoding was constrained"),
        (
            '{"persona": "builder", "score": 150, "verdict": "ship", "review": "x"}',
            "does not fit the review schema",
        ),
        (
            json.dumps({"persona": "skeptic", "score": 70, "verdict": "ship", "review": TEXT}),
            "is for persona",
        ),
        (GenResult(None, error="HTTP 500: boom"), "HTTP 500"),
    ],
)
def test_bad_replies_fail_that_review_only(scripted, reply, reason):
    scripted.script["builder"] = reply
    outcome = run([A])[0]
    assert [f.persona for f in outcome.panel.failures] == ["builder"]
    assert reason in outcome.panel.failures[0].reason
    assert outcome.panel.summary.failed == 1 and not outcome.panel.summary.complete


def test_failed_reviews_are_retried_on_the_next_run(scripted):
    scripted.script["builder"] = "not json"
    run([A])
    scripted.calls.clear()
    scripted.script.clear()
    outcome = run([A])[0]
    assert [c[1] for c in scripted.calls] == ["builder"]
    assert not outcome.panel.failures and len(outcome.panel.reviews) == 4


def test_control_characters_in_replies_are_tolerated(scripted):
    scripted.script["builder"] = (
        '{"persona": "builder", "score": 70, "verdict": "ship", "review": "' + "tab\there\x01 " * 40 + '"}'
    )
    review = run([A])[0].panel.review_for("builder")
    assert review is not None and "\t" not in review.review and "\x01" not in review.review


def test_a_persons_edits_are_never_overwritten(scripted, workdir: Path):
    path = run([A])[0].path
    data = json.loads(path.read_text())
    data["reviews"][0]["review"] = "Edited by a reviewer. " * 20
    path.write_text(json.dumps(data, indent=2))
    before = path.read_bytes()
    scripted.calls.clear()
    outcome = run([A.model_copy(update={"description": "changed"})], fresh=True)[0]
    assert outcome.status == "kept-edited" and scripted.calls == []
    assert path.read_bytes() == before
    forced = run([A], force=True)[0]
    assert forced.status == "written"
    record = load_record(path, ToolPanel).record
    assert "Edited by a reviewer" not in record.reviews[0].review
    # --force keeps the replaced text in the history.
    assert record.history[-1].action == "regenerated"
    assert "Edited by a reviewer" in json.dumps(record.history[-1].previous)


def edit_review(path: Path, persona: str, **fields) -> None:
    """An edit as `panel edit` makes it: current fields change, the draft and checksum follow."""
    record = load_record(path, ToolPanel).record
    reviews = [r.model_copy(update=fields) if r.persona == persona else r for r in record.reviews]
    history = [
        *record.history,
        Change(by="ana", action="edited", fields=[f"reviews.{persona}.{k}" for k in fields]),
    ]
    write_record(path, record.model_copy(update={"reviews": reviews, "history": history}))


def test_edited_reviews_survive_regeneration_and_the_rest_is_regenerated(scripted):
    path = run([A])[0].path
    edit_review(path, "skeptic", review="A reviewer rewrote this paragraph. " * 10, score=20, verdict="skip")
    scripted.calls.clear()
    outcome = run([A], fresh=True)[0]
    assert sorted(c[1] for c in scripted.calls) == ["builder", "founder", "futurist"]
    assert outcome.kept_edited == ["skeptic"]
    skeptic = outcome.panel.review_for("skeptic")
    assert skeptic.edited and skeptic.review.startswith("A reviewer rewrote") and skeptic.original.score != 20
    # A changed tool description does not sweep the edited review away either.
    scripted.calls.clear()
    outcome = run([A.model_copy(update={"description": "New vendor text."})])[0]
    assert "skeptic" not in [c[1] for c in scripted.calls]
    assert outcome.panel.review_for("skeptic").review.startswith("A reviewer rewrote")


def test_a_reviewers_fix_to_the_tool_text_wins_over_the_vendor_text(scripted):
    path = run([A])[0].path
    record = load_record(path, ToolPanel).record
    fixed = record.tool.model_copy(update={"tagline": "Fixed by an editor"})
    history = [*record.history, Change(by="ana", action="edited", fields=["tool.tagline"])]
    write_record(path, record.model_copy(update={"tool": fixed, "history": history}))
    scripted.calls.clear()
    outcome = run([A])[0]
    assert scripted.calls == [] and outcome.panel.tool.tagline == "Fixed by an editor"


def test_personas_may_use_their_own_profile(scripted, workdir: Path):
    (workdir / "personas").mkdir()
    src = REPO / "personas" / "futurist.yaml"
    (workdir / "personas" / "futurist.yaml").write_text(src.read_text() + "profile: b\n")
    outcome = run([A])[0]
    by_persona = {c[1]: c[0] for c in scripted.calls}
    assert by_persona == {"builder": "a", "skeptic": "a", "futurist": "b", "founder": "a"}
    assert outcome.panel.review_for("futurist").provenance.profile == "b"


def test_the_same_tool_twice_is_an_error(scripted, workdir: Path):
    from panel.errors import PanelError

    with pytest.raises(PanelError, match="given twice"):
        run([A, A])
    assert not (workdir / "outputs").exists()
