"""Records for tests that need a panel or comparison on disk but no model: the shapes panel writes.

The review text is written for these tests. Scores and verdicts agree unless a test says not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from panel.generation.compare import save_comparison
from panel.generation.runner import PanelOutcome
from panel.grounding.material import material_for
from panel.records import (
    Change,
    Check,
    Claim,
    Comparison,
    Evidence,
    Provenance,
    ReviewEntry,
    Sampling,
    Tool,
    ToolPanel,
)
from panel.records.store import Outputs, load_record, published_slug, write_record

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


def publish(path: Path, root: Path, by: str = "dana") -> Path:
    """`panel publish` in-process: validate, stamp and write outputs/published/<slug>.json."""
    from panel.editorial import publishing, render
    from panel.inputs.personas import load_personas

    personas = load_personas()
    names = {p.id: p.name for p in personas}
    result = publishing.publish(
        path, Outputs(root), personas, by, lambda record, fmt: render.render_page(record, fmt, names)
    )
    return result.paths[0]


def write_published(
    root: Path, record: ToolPanel | Comparison, at: datetime = WHEN, by: str = "dana"
) -> Path:
    """A record as `panel publish` leaves it under outputs/published/, stamped at a fixed time
    (tests and benches that need many records, or dates that do not move)."""
    revision = record.revision + 1 if record.status == "published" else 1
    change = Change(at=at, by=by, action="published", note=f"revision {revision}")
    stamped = record.model_copy(
        update={
            "status": "published",
            "revision": revision,
            "published_at": at,
            "published_by": by,
            "history": [*record.history, change],
            "checksum": None,
        }
    )
    path = Outputs(root).root / "published" / f"{published_slug(stamped)}.json"
    write_record(path, stamped)
    return path


SITE_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday of ISO week 2026-W49


def write_site_records(root: Path) -> list[Path]:
    """Two published comparisons in two categories, at fixed times: the README's example (no
    category) and the page tests' Cronwright vs Ticklane (Developer Tools), a day later."""
    from pages import comparison

    example = write_example_comparison(root)
    first = write_published(root, load_record(example, Comparison).record, at=SITE_AT)
    second = write_published(root, comparison(), at=SITE_AT + timedelta(days=1), by="cam")
    return [first, second]


HOSTILE_NAME = "</script><script>alert(1)</script>"


def hostile_records(root: Path) -> ToolPanel:
    """A tool whose every field is hostile (tests/pages.py's XSS corpus, Markdown and HTML in its
    description), published in a comparison with Cronwright and on its own."""
    from panel.records import MAX_DESCRIPTION, Pricing, Source

    from pages import CRONWRIGHT, NAMES, XSS, comparison, entry, tool_panel

    description = "# Launch\n\n**Bold** _claims_ [click](javascript:alert(1)) " + " ".join(XSS)
    hostile = CRONWRIGHT.model_copy(
        update={
            "name": HOSTILE_NAME,
            "tagline": XSS[1],
            "category": XSS[0],
            "description": description[:MAX_DESCRIPTION],
            "pricing": Pricing(entry="paid", detail=XSS[4][:400]),
            "url": "https://x.example/%3Cscript%3E",
            "sources": [Source(title=XSS[9], text=XSS[10], url="https://x.example/a?b=<c>")],
        }
    )
    review = (XSS[5] + " " + XSS[19] + " padding words " * 20)[:1500]
    hostile_panel = tool_panel(hostile, [entry(p, 61, "ship", review) for p in NAMES])
    write_published(root, Comparison(panels=[comparison().panels[0], hostile_panel]), at=SITE_AT)
    write_published(root, hostile_panel, at=SITE_AT + timedelta(hours=1))
    return hostile_panel
