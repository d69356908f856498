"""`panel validate`: check hand-edited records against the JSON Schema and against the rules.

Two passes. The JSON Schema (the one `panel schema` prints, from the same pydantic models) is
checked with the jsonschema library and every error is reported with its JSON path and a hint.
Then the rules the schema cannot say: a verdict must agree with its score. Derived values in the
file (counts, percentages, decision, flags) are recomputed from the reviews; where the file says
otherwise (after a hand edit, say) that is reported as a note, since the file's values are never
used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from panel.core.loading import parse_text, read_text
from panel.errors import InputError
from panel.grounding import ground
from panel.inputs.personas import load_personas
from panel.records import (
    DEFAULT_SHIP_THRESHOLD,
    Comparison,
    Persona,
    ToolPanel,
    json_schema,
    panels_of,
    verdict_for,
)
from panel.records.store import MAX_RECORD_BYTES, RECORD_KINDS, checksum

KINDS = RECORD_KINDS
_VALIDATORS: dict[str, Draft202012Validator] = {}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    hint: str = ""

    def line(self, file: Path, label: str = "") -> str:
        tag = f"{label}: " if label else ""
        return f"{file}: {self.path}: {tag}{self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class Report:
    """What `panel validate` found. `problems` are the file's own (it does not read, breaks the
    schema, a verdict disagrees with its score); `claims` are contradicted claims nobody checked,
    which only exist once the file reads. When `record` is None, `problems` says why."""

    file: Path
    kind: str | None
    problems: list[Problem]
    notes: list[str]
    record: ToolPanel | Comparison | None = None  # with claims and flags recomputed
    warnings: list[Problem] = field(default_factory=list)
    claims: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Every error, the file's own first."""
        return [*self.problems, *self.claims]

    @property
    def ok(self) -> bool:
        return not self.errors


def json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _hint(error: SchemaError) -> str:
    v = error.validator
    if v in ("maximum", "minimum") and error.path and error.path[-1] == "score":
        return "scores are whole numbers from 0 to 100"
    if v in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        return f"allowed range: {error.schema.get('minimum', '…')} to {error.schema.get('maximum', '…')}"
    if v == "enum":
        return "use one of: " + ", ".join(map(str, error.validator_value))
    if v == "const":
        return f"must be {error.validator_value!r}"
    if v == "required":
        return "add the missing field"
    if v == "additionalProperties":
        return "remove it; panel does not know this field"
    if v == "type":
        return f"expected {error.validator_value}"
    if v in ("maxLength", "minLength"):
        low, high = error.schema.get("minLength", 0), error.schema.get("maxLength", "…")
        return f"length limits: {low} to {high} characters"
    if v == "pattern":
        return f"must match {error.validator_value}"
    return ""


def _validator(kind: str) -> Draft202012Validator:
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = Draft202012Validator(json_schema(kind))
    return _VALIDATORS[kind]


def _derived(data: dict[str, Any], record: ToolPanel | Comparison) -> list[Problem]:
    """Derived values written in the file must equal the recomputed ones."""
    problems: list[Problem] = []
    computed = record.model_dump(mode="json")

    def compare(found: Any, expected: Any, path: list[Any]) -> None:
        if isinstance(expected, dict) and isinstance(found, dict):
            for key, value in expected.items():
                if key in found:
                    compare(found[key], value, [*path, key])
        elif found != expected:
            problems.append(
                Problem(
                    json_path(path),
                    f"the file says {json.dumps(found)}, the reviews give {json.dumps(expected)}",
                    "derived values are recomputed, never trusted",
                )
            )

    def walk_panel(raw: dict[str, Any], panel: dict[str, Any], path: list[Any]) -> None:
        if "summary" in raw:
            compare(raw["summary"], panel["summary"], [*path, "summary"])
        for i, (r_raw, r) in enumerate(zip(raw.get("reviews", []), panel["reviews"], strict=False)):
            for key in ("flags", "edited"):
                if key in r_raw:
                    compare(r_raw[key], r[key], [*path, "reviews", i, key])

    if isinstance(record, Comparison):
        for key in ("title", "question", "decision"):
            if key in data:
                compare(data[key], computed[key], [key])
        for i, (raw, panel) in enumerate(zip(data.get("panels", []), computed["panels"], strict=False)):
            walk_panel(raw, panel, ["panels", i])
    else:
        walk_panel(data, computed, [])
    return problems


def _verdict_problem(
    path: list[Any], persona: str, score: int, verdict: str, threshold: int
) -> Problem | None:
    if verdict == verdict_for(score, threshold):
        return None
    return Problem(
        json_path([*path, "verdict"]),
        f"{verdict!r} disagrees with score {score}",
        f"{persona} ships at {threshold} or more; change the score or the verdict",
    )


def _raw_reviews(data: dict[str, Any]) -> list[tuple[list[Any], dict[str, Any]]]:
    """(JSON path, review dict) of every review in a record's raw data, however broken the rest."""
    panels = data.get("panels") if data.get("kind") == "comparison" else [data]
    found = []
    for p_index, panel in enumerate(panels if isinstance(panels, list) else []):
        base = ["panels", p_index] if data.get("kind") == "comparison" else []
        reviews = panel.get("reviews") if isinstance(panel, dict) else None
        for r_index, review in enumerate(reviews if isinstance(reviews, list) else []):
            if isinstance(review, dict):
                found.append(([*base, "reviews", r_index], review))
    return found


def _verdicts(data: dict[str, Any]) -> list[Problem]:
    """The ship/skip rule, checked on the raw data so it is reported alongside schema errors."""
    problems = []
    for path, review in _raw_reviews(data):
        score, verdict = review.get("score"), review.get("verdict")
        provenance = review.get("provenance")
        threshold = (
            provenance.get("ship_threshold", DEFAULT_SHIP_THRESHOLD) if isinstance(provenance, dict) else None
        )
        if type(score) is int and verdict in ("ship", "skip") and type(threshold) is int:
            problem = _verdict_problem(path, str(review.get("persona")), score, verdict, threshold)
            if problem is not None:
                problems.append(problem)
    return problems


def _claims(record: ToolPanel | Comparison) -> tuple[list[Problem], list[Problem]]:
    """Errors for unchecked claims the rules find contradicted; warnings for unchecked claims
    the material does not support, for contradictions only the model pass found, and for
    draft-quality flags."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    panels = panels_of(record)
    for p_index, panel in enumerate(panels):
        base = ["panels", p_index] if isinstance(record, Comparison) else []
        for r_index, review in enumerate(panel.reviews):
            where = [*base, "reviews", r_index]
            for c_index, claim in enumerate(review.claims):
                if claim.checked is not None or claim.status == "supported":
                    continue
                path = json_path([*where, "claims", c_index])
                if claim.status == "contradicted":
                    assert claim.evidence is not None
                    problem = Problem(
                        path,
                        f"the {review.persona} review says {claim.text!r} ({claim.kind}); the material says "
                        f"{claim.evidence.sentence!r} ({claim.evidence.origin()})",
                        "fix the text, or mark the claim checked if you verified it elsewhere",
                    )
                    (errors if claim.blocks_publishing else warnings).append(problem)
                else:
                    warnings.append(
                        Problem(
                            path,
                            f"the {review.persona} review says {claim.text!r} ({claim.kind}); "
                            "the material does not say",
                            "verify it, then mark it checked, or remove it",
                        )
                    )
            for flag in review.quality:
                warnings.append(Problem(json_path([*where, "quality"]), f"{flag.kind}: {flag.detail}"))
    return errors, warnings


def valid_record(path: Path, personas: Sequence[Persona] | None = None) -> ToolPanel | Comparison:
    """The record, claims recomputed, for a command that changes or shows it; InputError naming
    the first problem when the file does not validate."""
    report = validate_file(path, personas)
    if report.record is None:
        first = report.problems[0]
        raise InputError(f"{first.path}: {first.message}", where=path, hint=f"run `panel validate {path}`")
    return report.record


def validate_file(path: Path, personas: Sequence[Persona] | None = None) -> Report:
    """Every problem in one record file; never raises for a bad record, only reports it.

    `personas` (default: those in effect) supply the worked examples a draft must not copy."""
    try:
        text = read_text(path, max_bytes=MAX_RECORD_BYTES)
    except InputError as exc:
        return Report(path, None, [Problem("$", exc.problem)], [])
    try:
        data = parse_text(text, path.with_suffix(".json"))  # strict: no NaN, no duplicate keys
    except InputError as exc:
        where, sep, problem = exc.problem.partition(": ")
        if where.startswith(("line ", "$")) and sep:  # a line, or the field holding a lone surrogate
            return Report(path, None, [Problem(where, problem)], [])
        return Report(path, None, [Problem("$", exc.problem)], [])
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in KINDS:
        hint = "records have kind 'panel' or 'comparison'"
        return Report(path, None, [Problem("$.kind", f"unknown record kind {kind!r}", hint)], [])
    errors = sorted(_validator(kind).iter_errors(data), key=lambda e: list(e.absolute_path))
    problems = [Problem(json_path(e.absolute_path), e.message, _hint(e)) for e in errors]
    problems += _verdicts(data)
    notes = []
    if data.get("checksum") != checksum(data):
        notes.append("edited by hand since panel last wrote it")
    if errors:
        notes.append("claims are checked once the schema errors above are fixed")
        return Report(path, kind, problems, notes)
    try:
        record = KINDS[kind].model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            problems.append(Problem(json_path(err["loc"]), err["msg"]))
        return Report(path, kind, problems, notes)
    record = ground.refresh(record, load_personas() if personas is None else personas)
    claims, warnings = _claims(record)
    # Stale derived values are worth a note but harmless: they are recomputed on every read.
    notes += [f"{p.path}: {p.message} ({p.hint})" for p in _derived(data, record)]
    return Report(path, kind, problems, notes, record, warnings, claims)
