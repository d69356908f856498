"""Editing a record: `panel edit` (a YAML view in $EDITOR) and the desk (a web form) share it.

The YAML loop follows `kubectl edit` and `git commit`: on an error the editor opens again with
the errors as comments at the top; an unchanged or empty file cancels and leaves the record as it
was. Both doors validate through `_edited_review` and save through `saving.save_edit`.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.core.loading import describe_validation_error, dump_yaml, parse_text
from panel.errors import InputError, PanelError
from panel.records import (
    Check,
    Claim,
    Comparison,
    Review,
    ReviewEntry,
    Tool,
    ToolPanel,
    panels_of,
    verdict_for,
    with_panels,
)

TOOL_FIELDS = ("tagline", "category", "pricing", "url", "description")
REVIEW_FIELDS = ("score", "verdict", "review")
ERROR_MARK = "# ERROR: "
MAX_ROUNDS = 20


def editor_name(explicit: str | None) -> str:
    """Who is editing: --editor, else $USER, else the login name."""
    if explicit:
        return explicit
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


CHECK_KEYS = ("check", "check_note")  # marking claims checked from the YAML view


def _claim_comment(number: int, claim: Claim) -> str:
    line = f"#   {number}. {claim.status} {claim.kind}: {claim.text!r}"
    if claim.evidence is not None:
        line += f" (the material: {claim.evidence.sentence!r} [{claim.evidence.origin()}])"
    if claim.checked is not None:
        line += f" [checked by {claim.checked.by}]"
    return " ".join(line.split())


def _claims_block(review: ReviewEntry) -> list[str]:
    """Comment lines listing a review's claims, for the lines above its `check:` key."""
    lines = ["# Claims, checked against the material (numbers for `check`):"]
    lines += [_claim_comment(i, c) for i, c in enumerate(review.claims, 1)]
    lines.append("# List the numbers you verified outside the material under check, e.g. check: [1, 3]")
    return lines


def view(record: ToolPanel | Comparison, path: Path) -> str:
    """The YAML a reviewer edits: tool fields, then per persona score, verdict and review, with
    each review's claims as comments and a `check` list to mark them checked."""
    tools = []
    thresholds = []
    blocks: list[list[str]] = []  # claims comments, in the order the `check:` lines appear
    for panel in panels_of(record):
        tool = panel.tool.model_dump(mode="json")
        reviews: dict[str, dict[str, Any]] = {}
        for r in panel.reviews:
            reviews[r.persona] = {"score": r.score, "verdict": r.verdict, "review": r.review}
            if r.claims:
                reviews[r.persona].update({"check": [], "check_note": ""})
                blocks.append(_claims_block(r))
        tools.append({"name": tool["name"], **{k: tool[k] for k in TOOL_FIELDS}, "reviews": reviews})
        thresholds += [f"{r.persona} {r.provenance.ship_threshold}" for r in panel.reviews]
    header = [
        f"# Editing {path} ({record.kind}, {record.status}, revision {record.revision}).",
        "# Change tool fields, scores, verdicts or reviews, then save and quit.",
        "# A verdict must agree with its score: ship at or above the persona's threshold",
        f"# ({', '.join(dict.fromkeys(thresholds))}). Tool names cannot change here.",
        "# To cancel, quit without saving or empty the file.",
    ]
    if any(r.verdict == "split" for panel in panels_of(record) for r in panel.reviews):
        header.insert(-1, "# A jury's `split` stays until you set ship or skip (publishing needs one).")
    body = dump_yaml({"tools": tools})
    lines: list[str] = []
    pending = iter(blocks)
    for line in body.splitlines():
        if line.lstrip() == "check: []":
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + comment for comment in next(pending)]
        lines.append(line)
    return "\n".join(header) + "\n" + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ClaimCheck:
    """A claim a person marks as verified outside the material: the tool, the persona whose
    review makes it, the claim's exact text, and the mark (who, and how they verified it)."""

    tool: str
    persona: str
    text: str
    mark: Check


def claim_check(tool: str, persona: str, text: str, by: str, note: str = "") -> ClaimCheck:
    """A ClaimCheck, or InputError when the note is over the limit or nobody is named."""
    try:
        return ClaimCheck(tool, persona, text, Check(by=by, note=note.strip()))
    except ValidationError as exc:
        raise InputError(
            f"cannot mark {text!r} checked: {describe_validation_error(exc)}",
            hint="keep the note to what you verified and where",
        ) from None


@dataclass
class Applied:
    record: ToolPanel | Comparison
    changed: dict[str, list[str]] = field(default_factory=dict)  # tool name -> changed fields
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool name -> old values
    text: str = ""  # the YAML the reviewer saved, kept in a file if the save is refused
    note: str = ""  # for the history entry, e.g. whose paragraph an editor adopted
    checks: list[ClaimCheck] = field(default_factory=list)  # marked when saved (saving.mark_checked)

    @property
    def has_changes(self) -> bool:
        """Whether there is anything to save."""
        return bool(self.checks) or any(self.changed.values())


class EditProblems(InputError):
    """An edit that does not validate; `problems` maps each field's path (`tools[0].reviews.
    builder.score`, the desk's form field names) to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        first = next(iter(problems.items()))
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{first[0]}: {first[1]}{more}", hint="nothing was saved; fix the fields and save again"
        )


def strip_errors(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(ERROR_MARK)) + "\n"


def apply_view(record: ToolPanel | Comparison, text: str, by: str) -> Applied:
    """Read the edited view back onto the record, or raise EditProblems with every problem.
    Claims listed under a review's `check` go into `checks`, marked checked by `by` when the
    edit is saved (saving.mark_checked)."""
    data = parse_text(text, Path("edit.yaml"), InputError)
    problems: list[tuple[str, str]] = []
    panels = panels_of(record)
    items = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != len(panels):
        raise EditProblems({"tools": f"keep the list of {len(panels)} tool(s) as it was"})
    applied = Applied(record=record)
    new_panels = []
    for i, (panel, item) in enumerate(zip(panels, items, strict=True)):
        where = f"tools[{i}]"
        if not isinstance(item, dict):
            problems.append((where, "expected the tool's fields"))
            new_panels.append(panel)
            continue
        if item.get("name") != panel.tool.name:
            problems.append(
                (f"{where}.name", f"the tool name cannot change here (it was {panel.tool.name!r})")
            )
        tool_data = {
            "name": panel.tool.name,
            **{k: item.get(k) for k in TOOL_FIELDS if item.get(k) is not None},
        }
        try:
            tool = Tool.model_validate(tool_data)
        except ValidationError as exc:
            problems.append(_invalid(where, exc))
            tool = panel.tool
        reviews_in = item.get("reviews")
        if not isinstance(reviews_in, dict) or set(reviews_in) != {r.persona for r in panel.reviews}:
            problems.append(
                (f"{where}.reviews", f"keep exactly the personas {[r.persona for r in panel.reviews]}")
            )
            reviews_in = {}
        changed, previous, entries = [], {}, []
        old_tool = panel.tool.model_dump(mode="json")
        new_tool = tool.model_dump(mode="json")
        for key in TOOL_FIELDS:
            if old_tool[key] != new_tool[key]:
                changed.append(f"tool.{key}")
                previous[f"tool.{key}"] = old_tool[key]
        for entry in panel.reviews:
            fields = reviews_in.get(entry.persona)
            where_review = f"{where}.reviews.{entry.persona}"
            if isinstance(fields, dict) and any(k in fields for k in CHECK_KEYS):
                fields = dict(fields)
                marks, note = fields.pop("check", []), fields.pop("check_note", "")
                applied.checks += _checks(panel.tool.name, entry, (marks, note, by), where_review, problems)
            entries.append(_edited_review(entry, fields, where_review, problems, changed, previous))
        applied.changed[panel.tool.name] = changed
        applied.previous[panel.tool.name] = previous
        new_panels.append(panel.model_copy(update={"tool": tool, "reviews": entries}))
    if problems:
        raise EditProblems(dict(problems))
    applied.record = with_panels(record, new_panels)
    return applied


def _checks(
    tool: str, entry: ReviewEntry, given: tuple[Any, Any, str], where: str, problems: list[tuple[str, str]]
) -> list[ClaimCheck]:
    """The claims numbered in `check` (given: check, check_note, by) that nobody has checked yet."""
    marks, note, by = given
    count = len(entry.claims)
    if marks is None:
        marks = []
    if not isinstance(marks, list) or not all(type(n) is int and 1 <= n <= count for n in marks):
        problems.append((f"{where}.check", f"list claim numbers from 1 to {count}, e.g. [1, 2]"))
        return []
    if note is not None and not isinstance(note, str):
        problems.append((f"{where}.check_note", "write the note as text"))
        return []
    fresh = [entry.claims[n - 1] for n in dict.fromkeys(marks) if entry.claims[n - 1].checked is None]
    try:
        return [claim_check(tool, entry.persona, c.text, by, note or "") for c in fresh]
    except InputError as exc:
        problems.append((f"{where}.check_note", exc.problem))
        return []


def _invalid(where: str, exc: ValidationError) -> tuple[str, str]:
    """A pydantic error as (field path, problem); describe_validation_error says `loc: problem`."""
    loc, _, message = describe_validation_error(exc).partition(": ")
    return f"{where}.{loc}", message


def _score(value: Any) -> Any:
    """A score typed into a form arrives as text: whole numbers become ints, the rest is refused
    by the model's own validation."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
        return int(value)
    return value


def apply_fields(
    record: ToolPanel | Comparison, edits: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> Applied:
    """Apply `{tool name: {persona: {score, verdict, review}}}` (any subset) to the record, with the
    same rules as `panel edit`; raise EditProblems keyed by field path if any field is wrong."""
    panels = panels_of(record)
    names = [p.tool.name for p in panels]
    problems: list[tuple[str, str]] = [
        ("tools", f"no tool {name!r} in this record") for name in edits if name not in names
    ]
    applied = Applied(record=record)
    new_panels = []
    for i, panel in enumerate(panels):
        where = f"tools[{i}]"
        given = edits.get(panel.tool.name, {})
        problems += [
            (f"{where}.reviews.{persona}", "no review by this persona to edit")
            for persona in given
            if panel.review_for(persona) is None
        ]
        changed: list[str] = []
        previous: dict[str, Any] = {}
        entries = []
        for entry in panel.reviews:
            fields = given.get(entry.persona)
            if fields is not None and "score" in fields:
                fields = {**fields, "score": _score(fields["score"])}
            where_review = f"{where}.reviews.{entry.persona}"
            entries.append(_edited_review(entry, fields, where_review, problems, changed, previous))
        applied.changed[panel.tool.name] = changed
        applied.previous[panel.tool.name] = previous
        new_panels.append(panel.model_copy(update={"reviews": entries}))
    if problems:
        raise EditProblems(dict(problems))
    applied.record = with_panels(record, new_panels)
    return applied


def _edited_review(
    entry: ReviewEntry,
    fields: Any,
    where: str,
    problems: list[tuple[str, str]],
    changed: list[str],
    previous: dict[str, Any],
) -> ReviewEntry:
    """The one place a review edit is checked, for the YAML view and the desk alike."""
    if fields is None:
        return entry
    if not isinstance(fields, Mapping) or set(fields) - set(REVIEW_FIELDS):
        problems.append((where, "only score, verdict and review can be edited"))
        return entry
    values = {"score": entry.score, "verdict": entry.verdict, "review": entry.review, **fields}
    if isinstance(values["review"], str):
        # Browsers send a textarea's line breaks as CRLF; the stored text uses LF.
        values["review"] = values["review"].replace("\r\n", "\n").replace("\r", "\n").strip()
    if all(values[k] == getattr(entry, k) for k in REVIEW_FIELDS):
        return entry  # as it was (a form sends every field, a split verdict included)
    threshold = entry.provenance.ship_threshold
    split = values["verdict"] == "split" and entry.verdict == "split"  # left for a later edit
    if split and type(values["score"]) is int:
        values["verdict"] = verdict_for(values["score"], threshold)  # to check the other fields
    try:
        review = Review(persona=entry.persona, **values)
    except ValidationError as exc:
        problems.append(_invalid(where, exc))
        return entry
    expected = verdict_for(review.score, threshold)
    if review.verdict != expected:
        problems.append(
            (
                f"{where}.verdict",
                f"{review.verdict!r} disagrees with score {review.score} "
                f"({entry.persona} ships at {threshold} or more, so this score means {expected!r})",
            )
        )
        return entry
    edited = {"score": review.score, "verdict": "split" if split else review.verdict, "review": review.review}
    for key in REVIEW_FIELDS:
        if getattr(entry, key) != edited[key]:
            changed.append(f"reviews.{entry.persona}.{key}")
            previous[f"reviews.{entry.persona}.{key}"] = getattr(entry, key)
    return entry.model_copy(update=edited)


def run_editor(text: str, command: list[str] | None = None) -> str:
    """Open the editor on `text`; return what was saved."""
    with tempfile.TemporaryDirectory(prefix="panel-edit-") as tmp:
        path = Path(tmp) / "record.yaml"
        path.write_text(text, encoding="utf-8")
        cmd = command or editor_command()
        try:
            result = subprocess.run([*cmd, str(path)], check=False)
        except FileNotFoundError:
            raise PanelError(
                f"editor {cmd[0]!r} not found", where="$EDITOR", hint="set $VISUAL or $EDITOR to your editor"
            ) from None
        if result.returncode != 0:
            raise PanelError(f"the editor exited with {result.returncode}; nothing was changed", where=cmd[0])
        return path.read_text(encoding="utf-8")


def _error_lines(exc: InputError) -> list[str]:
    """The problems of a refused edit, one comment line each, for the top of the reopened view."""
    if isinstance(exc, EditProblems):
        lines = [f"{where}: {message}" for where, message in exc.problems.items()]
    else:  # the YAML itself does not parse
        lines = [exc.line().replace("edit.yaml: ", "")]
    return [f"{ERROR_MARK}{' '.join(line.split())}" for line in lines]


def edit_loop(
    record: ToolPanel | Comparison, path: Path, command: list[str] | None = None, *, by: str
) -> Applied | None:
    """Open the view until it validates; None when the reviewer cancels or changes nothing.
    Claims listed under `check` are marked checked by `by` when the edit is saved."""
    original = view(record, path)
    text = original
    for _ in range(MAX_ROUNDS):
        saved = run_editor(text, command)
        if not saved.strip() or strip_errors(saved) == strip_errors(original) or saved == text:
            return None
        try:
            applied = apply_view(record, strip_errors(saved), by)
        except InputError as exc:
            text = "\n".join(
                [
                    *_error_lines(exc),
                    "# Fix the problems above, or empty the file to cancel.",
                    strip_errors(saved),
                ]
            )
            continue
        if not applied.has_changes:
            return None
        applied.text = strip_errors(saved)
        return applied
    raise PanelError(f"gave up after {MAX_ROUNDS} rounds of invalid edits; nothing was changed", where=path)
