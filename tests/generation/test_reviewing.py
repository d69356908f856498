"""The review stage above the engine: sources fitted to the context, retries, diagnoses.

`Window` stands in for an engine that knows its context length and counts a token per byte (the
default upper bound); the stage only asks it those two things.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from panel.engines import Engine, GenRequest, GenResult, Prompt
from panel.generation.planning import Job, Plan
from panel.generation.prompts import Prompts
from panel.generation.reviewing import ReviewStage, fit_sources
from panel.inputs.personas import load_personas
from panel.records import Source, Tool

from factory import PARAGRAPH, provenance, review_doc

TOOL = Tool(name="Burrow", description="Keeps secrets encrypted in the repository, one key per person.")
PRICING = Source(title="Pricing", text="Free for one project. " * 10 + "Teams pay nine euros a seat.")
README = Source(title="README", text="Install it with pipx. " * 40)
CHANGELOG = Source(title="Changelog", text="Version 2.1 added rotation. " * 40)


class Window(Engine):
    name = "window"

    def __init__(self, tokens: int):
        super().__init__(profile=None)  # type: ignore[arg-type]
        self.context_length = tokens

    async def generate(self, request: GenRequest) -> GenResult:
        raise AssertionError("the stage only measures")


def fit(tokens: int, sources: list[Source], reply: int = 200) -> tuple[Prompt, list[str]]:
    persona = load_personas()[0]
    tool = TOOL.model_copy(update={"sources": sources})
    prompts = Prompts()
    return asyncio.run(
        fit_sources(lambda s: prompts.render("chat", persona, tool, s), sources, Window(tokens), reply)
    )


@pytest.fixture(autouse=True)
def _workdir(workdir: Path) -> None:
    """Personas and prompts from the installed copies only."""


def test_everything_fits_when_the_window_is_large():
    prompt, left_out = fit(100_000, [PRICING, README, CHANGELOG])
    assert left_out == [] and "Changelog" in prompt.display()


def test_later_sources_go_first_and_the_last_kept_is_cut_at_a_sentence_end():
    full_tool_only, _ = fit(100_000, [])
    budget = len(full_tool_only.display().encode()) + len(PRICING.text) + 400
    prompt, left_out = fit(budget + 200 + 16, [PRICING, README, CHANGELOG])
    text = prompt.display()
    assert "Teams pay nine euros a seat." in text  # the first source whole
    assert left_out[-1] == "Changelog (left out)" and "Changelog" not in text
    assert left_out[0].startswith("README (cut after ") and "Install it with pipx." in text
    assert TOOL.description in text  # the tool is never cut
    assert len(text.encode()) <= budget


def test_when_nothing_fits_only_the_tool_is_sent():
    bare, _ = fit(100_000, [])
    prompt, left_out = fit(len(bare.display().encode()) + 200 + 16, [PRICING, README])
    assert left_out == ["Pricing (left out)", "README (left out)"]
    assert prompt.display() == bare.display()


def _job(persona_id: str = "skeptic") -> Job:
    persona = next(p for p in load_personas() if p.id == persona_id)
    stamped = {"prompt_tokens", "completion_tokens", "latency_s", "finish_reason", "attempts", "created_at"}
    plan = Plan(index=0, tool=TOOL, source=TOOL, path=Path("burrow.json"), existing=None, edited=False)
    return Job(
        plan=plan,
        persona=persona,
        profile=None,  # type: ignore[arg-type] - the stage reads no profile when it applies a result
        schema={},
        provenance=provenance().model_dump(exclude=stamped),
        seed=None,
    )


def _applied(text: str, persona_id: str = "skeptic") -> Job:
    job = _job()
    request = GenRequest(key="0:skeptic:review", prompt=Prompt.plain("chat", "x"), schema={}, max_tokens=512)
    assert ReviewStage(Prompts()).apply(job, GenResult(request, text=text, finish_reason="stop")) is None
    return job


def test_a_reply_is_parsed_once(monkeypatch: pytest.MonkeyPatch):
    """`diagnose` parses the reply and keeps the object (Diagnosis.value); the review is read
    from it rather than from the text again. Raw control characters inside strings (legal for
    the decoder) are tolerated, and the review becomes one paragraph."""
    escaped = review_doc(40, "skip", PARAGRAPH.replace(" and ", " and\n", 1), persona="skeptic")
    reply = escaped.replace("\\n", "\n")  # a raw line break inside the string
    parses = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda *a, **k: parses.append(1) or loads(*a, **k))
    job = _applied(reply)
    assert len(parses) == 1
    assert job.failure is None and job.entry is not None
    assert job.entry.review == " ".join(PARAGRAPH.split()) and job.entry.score == 40


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ('["a", "list"]', "not-json", "the reply is a JSON list"),
        ("Sure! Here is my review", "free-text", "the engine ignored the JSON schema"),
        (
            review_doc(40, "skip", PARAGRAPH, persona="builder"),
            "invalid",
            "for persona 'builder', not 'skeptic'",
        ),
        (review_doc(40, "skip", "too short", persona="skeptic"), "invalid", "does not fit the review schema"),
        (
            review_doc(40, "skip", PARAGRAPH.replace(" and ", " and @ ", 1)).replace("@", "\\ud800"),
            "invalid",
            "$.review: the text holds a lone surrogate (\\ud800)",
        ),
    ],
)
def test_a_reply_that_is_no_review_is_a_failure_that_says_why(text: str, kind: str, reason: str):
    job = _applied(text)
    assert job.entry is None and job.failure is not None
    assert job.failure.diagnosis == kind and reason in job.failure.reason
