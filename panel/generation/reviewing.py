"""The review stage: one persona's review of one tool, from prompt to parsed, checked entry.

The prompt holds the tool and as many of its sources as fit the model's context (sources are cut
first; the tool never is), and what was left out goes into the provenance. A reply cut off by the
token limit is retried once with twice the budget, unless it was cut off because the server let
the model pad the JSON with whitespace (more budget would only buy more whitespace). A failed
review says what went wrong: the diagnosis travels to the record's failures and errors.jsonl.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from panel.core.loading import describe_validation_error, refuse_unreadable
from panel.core.text import one_paragraph
from panel.engines import Engine, GenRequest, GenResult, Prompt
from panel.generation.planning import Job
from panel.generation.prompts import Prompts
from panel.records import FailureKind, Persona, Provenance, Review, ReviewEntry, ReviewFailure, Source, utcnow

CONTEXT_MARGIN = 16  # tokens kept free beside prompt and reply: special tokens, rounding


def parse_review(reply: dict[str, Any], persona: Persona) -> Review:
    """Read a constrained reply that `diagnose` already parsed into a JSON object
    (`Diagnosis.value`, read tolerant of raw control characters inside strings, which are legal
    for the decoder but not for strict JSON): the review text as one paragraph, then the review
    schema and the persona, strictly. A lone surrogate escape (\\ud800), which a JSON grammar
    lets the decoder write but no record can hold, is refused as the strict reader refuses it."""
    refuse_unreadable(reply)
    data = dict(reply)
    if isinstance(data.get("review"), str):
        data["review"] = one_paragraph(data["review"])
    try:
        review = Review.model_validate(data)
    except ValidationError as exc:
        raise ValueError(
            f"the reply does not fit the review schema: {describe_validation_error(exc)}"
        ) from None
    if review.persona != persona.id:
        raise ValueError(f"the reply is for persona {review.persona!r}, not {persona.id!r}")
    return review


async def fit_sources(
    render: Callable[[list[Source]], Prompt], sources: list[Source], engine: Engine, reply_tokens: int
) -> tuple[Prompt, list[str]]:
    """The prompt with as many sources as fit the engine's context beside a reply of
    `reply_tokens`, and what was left out. Later sources go first; the last one kept may be cut
    at a sentence end."""
    full = render(sources)
    window = engine.context_length
    if window is None or not sources:
        return full, []
    budget = window - reply_tokens - CONTEXT_MARGIN

    async def fits(prompt: Prompt) -> bool:
        if len(prompt.display().encode()) <= budget:  # a token is at least one byte: surely fits
            return True
        return await engine.count_tokens(prompt) <= budget

    if await fits(full):
        return full, []
    kept = list(sources)
    left_out: list[str] = []
    while kept:
        last = kept.pop()
        if await fits(render(kept)):
            cut = await _longest_cut(render, kept, last, fits)
            if cut is not None:
                left_out.append(
                    f"{last.title} (cut after {len(cut.text):,} of {len(last.text):,} characters)"
                )
                kept.append(cut)
            else:
                left_out.append(f"{last.title} (left out)")
            break
        left_out.append(f"{last.title} (left out)")
    left_out.reverse()
    return render(kept), left_out


async def _longest_cut(
    render: Callable[[list[Source]], Prompt], kept: list[Source], source: Source, fits: Callable
) -> Source | None:
    """The longest start of `source` that ends at a sentence end and still fits, or None."""
    ends = [i + 1 for i, ch in enumerate(source.text) if ch in ".!?\n" and i + 1 < len(source.text)]
    lo, hi, best = 0, len(ends) - 1, None
    while lo <= hi:  # binary search: a longer start never fits where a shorter one does not
        mid = (lo + hi) // 2
        cut = source.model_copy(update={"text": source.text[: ends[mid]].rstrip()})
        if await fits(render([*kept, cut])):
            best, lo = cut, mid + 1
        else:
            hi = mid - 1
    return best


class ReviewStage:
    """Writes the review. Skipped for a job that already holds its review (claims only)."""

    name = "review"

    def __init__(self, prompts: Prompts):
        self.prompts = prompts

    async def request(self, job: Job, engine: Engine) -> GenRequest | None:
        if job.entry is not None:
            return None
        tool = job.plan.tool
        prompt, left_out = await fit_sources(
            lambda sources: self.prompts.render(job.profile.prompt_format, job.persona, tool, sources),
            tool.sources,
            engine,
            2 * job.profile.max_tokens,  # room for the retry with twice the budget
        )
        job.provenance["sources_left_out"] = left_out
        return GenRequest(
            key=f"{job.key}:review",
            prompt=prompt,
            schema=job.schema,
            max_tokens=job.profile.max_tokens,
            stage="review",
            tool=tool.name,
            persona=job.persona.id,
            seed=job.seed,
        )

    def apply(self, job: Job, result: GenResult) -> GenRequest | None:
        """Record the result on the job; a request to send again, or None when done."""
        diagnosis = result.diagnosis() if result.error is None else None
        if (
            result.finish_reason == "length"
            and result.request.attempt == 1
            and diagnosis is not None
            and diagnosis.kind != "whitespace-padding"
        ):
            return result.request.retry_with(result.request.max_tokens * 2)
        provenance = Provenance(
            **job.provenance,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            latency_s=round(result.latency_s, 3),
            finish_reason=result.finish_reason,
            attempts=result.request.attempt,
            created_at=utcnow(),
        )
        kind: FailureKind
        if result.error is not None:
            kind, reason = ("unavailable" if result.unavailable else "error"), result.error
        elif diagnosis is not None and diagnosis.kind != "ok":
            kind, reason = diagnosis.kind, diagnosis.message
            if diagnosis.kind == "truncated" and result.request.attempt > 1:
                reason = (
                    f"the reply hit the token limit twice (last budget {result.request.max_tokens} tokens); "
                    "raise max_tokens in the profile"
                )
        else:
            assert diagnosis is not None and diagnosis.value is not None  # no error, and a JSON object
            try:
                review = parse_review(diagnosis.value, job.persona)
            except ValueError as exc:
                kind, reason = "invalid", str(exc)
            else:
                job.entry = ReviewEntry(**review.model_dump(), provenance=provenance)
                return None
        job.failure = ReviewFailure(
            persona=job.persona.id, reason=reason, diagnosis=kind, provenance=provenance
        )
        return None
