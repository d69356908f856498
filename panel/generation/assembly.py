"""Assembling a tool's panel from its plan and writing it, without losing anyone's edit.

The record is built from the file as it is at write time, under the record's write lock: a
review a person changed while the model worked (in the desk, with `panel edit`) is kept, not the
model's new draft; a file edited by hand outside panel is left alone. Every review's claims and
draft-quality flags are recomputed from its text before the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from panel.generation.planning import Plan, Status
from panel.grounding.ground import refresh_panel
from panel.records import Change, ReviewEntry, ReviewFailure, Tool, ToolPanel, utcnow
from panel.records.store import load_record, write_lock, write_record


@dataclass
class PanelOutcome:
    tool: Tool
    path: Path
    panel: ToolPanel | None  # None only when "busy": another run holds the tool
    status: Status
    generated: int = 0
    reused: int = 0
    failures: list[ReviewFailure] = field(default_factory=list)
    prompt_tokens: int = 0  # spent in this run, failed attempts included
    completion_tokens: int = 0
    kept_edited: list[str] = field(default_factory=list)


def _spent(plan: Plan) -> tuple[int, int]:
    return sum(j.prompt_tokens for j in plan.jobs), sum(j.completion_tokens for j in plan.jobs)


def _reused(plan: Plan) -> set[str]:
    """Personas whose every job only added the claims pass to a kept review (or vote)."""
    jobs: dict[str, list[bool]] = {}
    for j in plan.jobs:
        jobs.setdefault(j.persona.id, []).append(j.reused)
    return {p for p, reused in jobs.items() if all(reused)}


def _merge(
    plan: Plan, base: ToolPanel | None
) -> tuple[dict[str, ReviewEntry], dict[str, ReviewFailure], list[str]]:
    """Reviews and failures to write. A persona whose review changed on disk since planning
    keeps what is on disk; the others get what this run made."""
    planned = plan.existing

    def on_disk(persona: str) -> ReviewEntry | None:
        return base.review_for(persona) if base is not None else None

    def changed_meanwhile(persona: str) -> bool:
        before = planned.review_for(persona) if planned is not None else None
        return base is not None and on_disk(persona) is not None and on_disk(persona) != before

    entries = {p: on_disk(p) or e for p, e in plan.keep.items()}
    failures: dict[str, ReviewFailure] = {}
    kept: list[str] = []
    for persona, entry in plan.done.items():
        if changed_meanwhile(persona):
            entries[persona], kept = on_disk(persona), [*kept, persona]  # type: ignore[assignment]
        else:
            entries[persona] = entry
    for persona, failure in plan.failed.items():
        if changed_meanwhile(persona):
            entries[persona], kept = on_disk(persona), [*kept, persona]  # type: ignore[assignment]
        else:
            failures[persona] = failure
    return entries, failures, kept


def assemble(plan: Plan, base: ToolPanel | None, examples: Mapping[str, str]) -> tuple[ToolPanel, list[str]]:
    """The panel to write: this run's reviews over the record on disk (`base`)."""
    entries, failures, kept = _merge(plan, base)
    history = list(base.history) if base is not None else []
    before = {p: plan.existing.review_for(p) for p in entries} if plan.existing else {}
    made = [p for p in [*plan.done, *plan.failed] if p not in kept and p not in _reused(plan)]
    if made:
        replaced = {p: r for p, r in before.items() if r is not None and p in made}
        history.append(
            Change(
                by="panel",
                action="regenerated" if replaced else "generated",
                fields=[f"reviews.{p}" for p in made],
                note=", ".join(sorted({j.profile.name for j in plan.jobs})),
                previous={
                    f"reviews.{p}": r.model_dump(include={"score", "verdict", "review"})
                    for p, r in replaced.items()
                    if r.edited  # a reviewer's text replaced under --force
                },
            )
        )
    tool = plan.tool
    if base is not None and plan.existing is not None and base.tool != plan.existing.tool:
        tool = base.tool  # a reviewer fixed the tool's fields while the model worked
    panel = ToolPanel(
        tool=tool,
        reviews=[entries[p] for p in plan.order if p in entries],
        failures=[failures[p] for p in plan.order if p in failures],
        created_at=base.created_at if base is not None else utcnow(),
        updated_at=utcnow(),
        status=base.status if base is not None else "draft",
        revision=base.revision if base is not None else 1,
        history=history,
    )
    return refresh_panel(panel, examples), kept


def finish(plan: Plan, examples: Mapping[str, str], force: bool) -> PanelOutcome:
    """Write the panel of a plan whose jobs have all settled (or that had none)."""
    prompt_tokens, completion_tokens = _spent(plan)
    if not plan.jobs and not plan.recombine:
        assert plan.existing is not None
        status: Status = "kept-edited" if plan.edited else "unchanged"
        return PanelOutcome(
            plan.tool,
            plan.path,
            plan.existing,
            status,
            reused=plan.kept_reviews,
            kept_edited=plan.kept_edited,
        )
    with write_lock(plan.path):
        base = None
        if plan.path.exists():
            loaded = load_record(plan.path, ToolPanel)
            if loaded.edited and not force:  # a person edited the file by hand meanwhile
                return PanelOutcome(plan.tool, plan.path, loaded.record, "kept-edited")
            base = loaded.record
        panel, kept = assemble(plan, base, examples)
        write_record(plan.path, panel)
    generated = sum(1 for j in plan.jobs if not j.reused and j.ok and j.persona.id not in kept)
    return PanelOutcome(
        plan.tool,
        plan.path,
        panel,
        "written",
        generated=generated,
        reused=plan.kept_reviews + sum(j.reused for j in plan.jobs),
        failures=[*panel.failures, *(f for f in plan.member_failures() if f.persona not in kept)],
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        kept_edited=[*plan.kept_edited, *kept],
    )
