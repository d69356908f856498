"""Records for tests that need a panel or comparison on disk but no model: the shapes panel writes.

The review text is written for these tests. Scores and verdicts agree unless a test says not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from panel.generation.compare import save_comparison
from panel.generation.juries import verdict_of
from panel.generation.runner import PanelOutcome
from panel.grounding.material import material_for
from panel.records import (
    RECUSED,
    Check,
    Claim,
    Evidence,
    JuryDefinition,
    Provenance,
    ReviewEntry,
    Sampling,
    Tool,
    ToolPanel,
    Vote,
)
from panel.records.store import Outputs, write_record

PERSONAS = ("builder", "skeptic", "futurist", "founder")
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PARAGRAPH = (
    "The primitive is a command that turns an API description into pages a developer can search, "
    "and the adoption bet is a single binary that runs in the build. The first hour is installing "
    "it, pointing it at one service and reading the output. A weekend script could render the "
    "same pages, but it would not catch the endpoint that lost its description last week, and "
    "that check is what a team would pay attention to."
)


def provenance(**changes: object) -> Provenance:
    """Provenance as the server engine stamps it; a test overrides only what it is about."""
    fields: dict[str, object] = {
        "profile": "tiny",
        "model": "tiny",
        "engine": "vllm-server",
        "persona_digest": "p",
        "prompt_digest": "q",
        "schema_digest": "s",
        "cache_key": "key",
        "sampling": Sampling(temperature=0.7, top_p=0.9, max_tokens=512),
        "finish_reason": "stop",
        "created_at": WHEN,
    }
    return Provenance.model_validate(fields | changes)


def review(persona: str, score: int, verdict: str | None = None, text: str = PARAGRAPH) -> ReviewEntry:
    return ReviewEntry(
        persona=persona,
        score=score,
        verdict=verdict or ("ship" if score >= 60 else "skip"),
        review=text,
        provenance=provenance(cache_key=f"key-{persona}"),
    )


def panel(name: str, scores: tuple[int, ...] = (80, 55, 70, 65), **tool: str) -> ToolPanel:
    return ToolPanel(
        tool=Tool(name=name, description=tool.pop("description", f"{name} does one job well."), **tool),
        reviews=[review(p, s) for p, s in zip(PERSONAS, scores, strict=False)],
        created_at=WHEN,
        updated_at=WHEN,
    )


def write_comparison(root: Path, a: ToolPanel, b: ToolPanel) -> Path:
    """Panel files plus the comparison, as `panel compare` leaves them."""
    outputs = Outputs(root)
    outcomes = []
    for p in (a, b):
        path = outputs.panel_path(p.tool.name)
        write_record(path, p)
        outcomes.append(PanelOutcome(p.tool, path, p, "written"))
    return save_comparison(outcomes, outputs).path


def write_example_comparison(root: Path) -> Path:
    """Quillstack against Ledgerlight (Ledgerlight ships with one persona of four): the record
    the editing and desk tests start from."""
    return write_comparison(root, panel("Quillstack"), panel("Ledgerlight", (40, 45, 62, 30)))


def review_doc(score: int, verdict: str, review: str = "x" * 400, persona: str = "skeptic") -> str:
    """A review as a compact JSON document, the form the decoder writes."""
    body = {"persona": persona, "score": score, "verdict": verdict, "review": review}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def model_claim(tool: Tool, text: str, status: str, checked: bool = False) -> Claim:
    """A claim as the model pass leaves it: grounding keeps it while its span is in the review
    and its evidence (a sentence of the tool's material) still reads the same."""
    sentence = material_for(tool).sentences[0]
    evidence = None
    if status != "unsupported":
        evidence = Evidence(id=sentence.id, sentence=sentence.text, source=sentence.source)
    return Claim(
        text=text,
        kind="feature",
        status=status,  # type: ignore[arg-type]
        evidence=evidence,
        origin="model",
        checked=Check(by="dana") if checked else None,
    )


def member_paragraph(profile: str) -> str:
    """A jury member's own paragraph: the same review in the member's words, told apart by name."""
    return (
        f"As the {profile} judge sees it, the command turns an API description into pages a "
        "developer can search, and the bet is one binary in the build. The first hour is pointing it "
        "at one service and reading what comes out. A weekend script would render the pages, but not "
        "catch the endpoint that lost its description, and that check is the reason to adopt it."
    )


def vote(profile: str, outcome: int | str, persona: str = "skeptic", threshold: int = 60) -> Vote:
    """A member's vote: a score (valid), "failed" or "recused"."""
    if outcome == "recused":
        return Vote(
            profile=profile,
            family="mistral",
            status="recused",
            reason=f"{RECUSED} (the tool's name says Mistral)",
        )
    stamp = provenance(profile=profile, model=f"model-{profile}", cache_key=f"key-{persona}-{profile}")
    if outcome == "failed":
        return Vote(
            profile=profile,
            status="failed",
            reason="the reply hit the token limit twice",
            diagnosis="truncated",
            provenance=stamp,
        )
    assert isinstance(outcome, int)
    return Vote(
        profile=profile,
        status="valid",
        score=outcome,
        verdict="ship" if outcome >= threshold else "skip",
        review=member_paragraph(profile),
        provenance=stamp.model_copy(update={"ship_threshold": threshold}),
    )


def jury_review(
    persona: str, members: list[tuple[str, int | str]], quorum: int = 2, name: str = "trio"
) -> ReviewEntry:
    """The review a jury's votes make, by the same rules a run applies."""
    definition = JuryDefinition(name=name, members=[m for m, _ in members], quorum=quorum)
    result = verdict_of(persona, definition, [vote(m, o, persona) for m, o in members])
    assert isinstance(result, ReviewEntry), result
    return result
