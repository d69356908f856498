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

import panel.engines.pool as engine_pool
from panel.core.files import add_write_listener, remove_write_listener
from panel.core.priority import WRITER_NICENESS, thread_niceness
from panel.engines.base import Engine, GenRequest, GenResult
from panel.generation.session import Session
from panel.records import Change, Source, Tool, ToolPanel
from panel.records.store import load_record, write_record

from conftest import EXAMPLES, REPO

TEXT = "A considered paragraph about the tool. " * 12


def claims_reply(schema: dict) -> dict:
    """A claims-pass answer the schema allows: the longest span offered, as a supported feature
    resting on the first sentence of the material."""
    grounded = schema["properties"]["claims"]["items"]["anyOf"][1]["properties"]
    return {
        "claims": [
            {
                "text": max(grounded["text"]["enum"], key=len),
                "kind": "feature",
                "status": "supported",
                "evidence": grounded["evidence"]["enum"][0],
            }
        ]
    }


class ScriptedEngine(Engine):
    """Answers from a script keyed by persona; counts what it was asked."""

    name = "scripted"
    calls: ClassVar[list[tuple[str, str, int]]] = []
    seeds: ClassVar[list[tuple[str, str, int | None]]] = []
    claims: ClassVar[list[tuple[str, str]]] = []
    script: ClassVar[dict[str, object]] = {}

    async def generate(self, r: GenRequest) -> GenResult:
        self.requests_sent += 1
        if r.stage == "claims":
            ScriptedEngine.claims.append((r.tool, r.persona))
            return GenResult(r, text=json.dumps(claims_reply(r.schema)), finish_reason="stop")
        ScriptedEngine.calls.append((self.profile.name, r.persona, r.max_tokens))
        ScriptedEngine.seeds.append((r.tool, r.persona, r.seed))
        answer = ScriptedEngine.script.get(r.persona, "ok")
        if callable(answer):
            answer = answer(r)
        if answer == "ok":
            schema_branch = r.schema.get("anyOf", [r.schema])[0]
            score = schema_branch["properties"]["score"]["minimum"]
            verdict = schema_branch["properties"]["verdict"]["const"]
            text = json.dumps({"persona": r.persona, "score": score, "verdict": verdict, "review": TEXT})
            return GenResult(r, text=text, finish_reason="stop", prompt_tokens=100, completion_tokens=50)
        if isinstance(answer, GenResult):
            answer.request = r
            return answer
        return GenResult(r, text=str(answer), finish_reason="stop")


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, workdir: Path):
    ScriptedEngine.calls = []
    ScriptedEngine.seeds = []
    ScriptedEngine.claims = []
    ScriptedEngine.script = {}
    monkeypatch.setattr(engine_pool, "create_engine", lambda profile, say=None: ScriptedEngine(profile, say))
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
    ("reply", "reason", "diagnosis"),
    [
        ("Sure! Here is my review: great tool.", "the engine ignored the JSON schema", "free-text"),
        (
            '{"persona": "builder", "score": 150, "verdict": "ship", "review": "x"}',
            "does not fit the review schema",
            "invalid",
        ),
        (
            json.dumps({"persona": "skeptic", "score": 70, "verdict": "ship", "review": TEXT}),
            "is for persona",
            "invalid",
        ),
        (GenResult(None, error="HTTP 500: boom"), "HTTP 500", "error"),
        (
            GenResult(None, text='{\r\r\r"persona": "builder", \n\n\n\n\t\t\t\t', finish_reason="length"),
            "--structured-outputs-config",
            "whitespace-padding",
        ),
    ],
)
def test_bad_replies_fail_that_review_only(scripted, reply, reason, diagnosis):
    scripted.script["builder"] = reply
    outcome = run([A])[0]
    assert [f.persona for f in outcome.panel.failures] == ["builder"]
    assert reason in outcome.panel.failures[0].reason
    assert outcome.panel.failures[0].diagnosis == diagnosis
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


def test_every_review_draws_with_its_own_seed_and_fresh_draws_anew(scripted):
    first = run([A, B])
    sent = {(tool, persona): seed for tool, persona, seed in scripted.seeds}
    recorded = {(o.tool.name, r.persona): r.provenance.sampling.seed for o in first for r in o.panel.reviews}
    assert sent == recorded  # the seed each request carried is the one in its provenance
    assert len(set(recorded.values())) == 8  # two tools, four personas: eight different draws
    assert all(r.provenance.draw == 0 for o in first for r in o.panel.reviews)
    scripted.seeds.clear()
    run([A])  # up to date: nothing drawn
    assert scripted.seeds == []
    fresh = run([A], fresh=True)[0]
    again = {r.persona: r.provenance for r in fresh.panel.reviews}
    assert all(p.draw == 1 for p in again.values())
    assert all(again[persona].sampling.seed != recorded[("Quillstack", persona)] for persona in again)
    # The same key and draw give the same seed: any draft can be drawn again.
    from panel.generation.planning import seed_for

    assert all(p.sampling.seed == seed_for(p.cache_key, p.draw) for p in again.values())


def test_changing_repetition_penalty_regenerates(scripted, workdir: Path):
    """Every setting that changes what the model writes is in the cache key, sampling options too."""
    run([A])
    scripted.calls.clear()
    (workdir / "models.yaml").write_text(
        "default: a\nmodels:\n"
        "  a: {engine: transformers, model: x, options: {sampling: {repetition_penalty: 1.3}}}\n"
        "  b: {engine: transformers, model: y}\n"
    )
    outcome = run([A])[0]
    assert len(scripted.calls) == 4 and outcome.status == "written"
    assert outcome.panel.reviews[0].provenance.sampling.options == {"repetition_penalty": 1.3}
    scripted.calls.clear()
    run([A])
    assert scripted.calls == []


def test_changing_a_source_reruns_only_that_tool(scripted):
    with_sources = A.model_copy(update={"sources": [Source(title="Pricing", text="Free for one project.")]})
    run([with_sources, B])
    scripted.calls.clear()
    changed = with_sources.model_copy(
        update={"sources": [Source(title="Pricing", text="Free for two projects.")]}
    )
    run([changed, B])
    assert {c[1] for c in scripted.calls} == {"builder", "skeptic", "futurist", "founder"}
    assert len(scripted.calls) == 4
    assert {tool for tool, _, _ in scripted.seeds[-4:]} == {"Quillstack"}


def test_a_tool_without_sources_keeps_the_cache_key_it_had():
    from panel.generation.planning import digest, tool_digest

    # As the tool was dumped before `sources` and `vendor` existed.
    legacy = {k: v for k, v in A.model_dump(mode="json").items() if k not in ("sources", "vendor")}
    assert tool_digest(A) == digest(legacy)
    # The vendor decides recusal, never what the model reads: it leaves the cache key alone.
    assert tool_digest(A.model_copy(update={"vendor": "Acme"})) == tool_digest(A)


def test_the_claims_pass_is_a_second_stage_with_its_own_cache(scripted):
    first = run([A], claims="model")[0]
    assert len(scripted.calls) == 4 and len(scripted.claims) == 4
    for review in first.panel.reviews:
        (claim,) = [c for c in review.claims if c.origin == "model"]
        assert claim.text in review.review and claim.evidence is not None and claim.evidence.id == "s1"
        assert review.provenance.claims_key is not None
    scripted.calls.clear()
    scripted.claims.clear()
    run([A], claims="model")  # both stages up to date: no request at all
    assert scripted.calls == [] and scripted.claims == []
    edit_review(first.path, "skeptic", review=TEXT.replace("considered", "careful"))
    again = run([A], claims="model")[0]
    # The edited review is kept and gets the claims pass again; nothing is regenerated.
    assert scripted.calls == [] and scripted.claims == [("Quillstack", "skeptic")]
    assert again.panel.review_for("skeptic").review.startswith("A careful paragraph")


def test_turning_the_claims_pass_on_later_runs_only_that_stage(scripted):
    run([A])
    assert scripted.claims == []
    scripted.calls.clear()
    outcome = run([A], claims="model")[0]
    assert scripted.calls == [] and len(scripted.claims) == 4
    assert outcome.generated == 0 and outcome.reused == 4
    assert all(any(c.origin == "model" for c in r.claims) for r in outcome.panel.reviews)


def test_the_claims_pass_over_existing_panels_writes_nothing_and_regenerates_nothing(scripted):
    outcome = run([A])[0]
    before = outcome.path.read_bytes()
    scripted.calls.clear()
    runner = Session.open().runner(claims="model")
    (checked,) = asyncio.run(runner.claims_pass([outcome.panel]))
    assert scripted.calls == [] and len(scripted.claims) == 4  # only the second stage ran
    assert all(any(c.origin == "model" for c in r.claims) for r in checked.reviews)
    assert [r.review for r in checked.reviews] == [r.review for r in outcome.panel.reviews]
    assert outcome.path.read_bytes() == before


def test_panels_are_written_from_a_thread_that_yields_the_cpu(scripted):
    """Grounding and writing a finished panel must not take the CPU from the requests in flight
    or from a model server on this machine (see panel/core/priority.py)."""
    mine = thread_niceness()
    if mine is None or mine >= 19:
        pytest.skip("threads have no niceness here, or none left to give")
    seen: list[tuple[str, int | None]] = []

    def listener(path: Path) -> None:
        seen.append((path.name, thread_niceness()))

    add_write_listener(listener)
    try:
        outcomes = run([A, B])
    finally:
        remove_write_listener(listener)
    written = {o.path.name for o in outcomes}
    assert {name for name, _ in seen} >= written
    assert all(nice == min(mine + WRITER_NICENESS, 19) for name, nice in seen if name in written)
    assert thread_niceness() == mine
