"""`panel edit`: a readable YAML view of a record in $EDITOR, validated on save, remembered.

The loop follows `kubectl edit` and `git commit`: on an error the editor opens again with the
errors as comments at the top; an unchanged or empty file cancels and leaves the record as it
was. Every applied edit adds a history entry saying who changed which fields, and the model's
draft stays beside the new text.
"""

from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from panel.errors import InputError, PanelError
from panel.loading import describe_validation_error, parse_text
from panel.records import Change, Comparison, Review, ReviewEntry, Tool, ToolPanel, utcnow

TOOL_FIELDS = ("tagline", "category", "pricing", "url", "description")
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


def panels_of(record: ToolPanel | Comparison) -> list[ToolPanel]:
    return record.panels if isinstance(record, Comparison) else [record]


class _Literal(yaml.SafeDumper):
    """Long text as YAML block scalars, so paragraphs are pleasant to edit."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if ("\n" in value or len(value) > 70) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Literal.add_representer(str, _str)


def view(record: ToolPanel | Comparison, path: Path) -> str:
    """The YAML a reviewer edits: tool fields, then per persona score, verdict and review."""
    tools = []
    thresholds = []
    for panel in panels_of(record):
        tool = panel.tool.model_dump(mode="json")
        reviews = {
            r.persona: {"score": r.score, "verdict": r.verdict, "review": r.review} for r in panel.reviews
        }
        tools.append({"name": tool["name"], **{k: tool[k] for k in TOOL_FIELDS}, "reviews": reviews})
        thresholds += [f"{r.persona} {r.provenance.ship_threshold}" for r in panel.reviews]
    header = [
        f"# Editing {path} ({record.kind}, {record.status}, revision {record.revision}).",
        "# Change tool fields, scores, verdicts or reviews, then save and quit.",
        "# A verdict must agree with its score: ship at or above the persona's threshold",
        f"# ({', '.join(dict.fromkeys(thresholds))}). Tool names cannot change here.",
        "# To cancel, quit without saving or empty the file.",
    ]
    body = yaml.dump({"tools": tools}, Dumper=_Literal, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


@dataclass
class Applied:
    record: ToolPanel | Comparison
    changed: dict[str, list[str]] = field(default_factory=dict)  # tool name -> changed fields
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool name -> old values


def strip_errors(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(ERROR_MARK)) + "\n"


def apply_view(record: ToolPanel | Comparison, text: str) -> Applied:
    """Read the edited view back onto the record, or raise ValueError with every problem."""
    data = parse_text(text, Path("edit.yaml"), InputError)
    problems: list[str] = []
    panels = panels_of(record)
    items = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != len(panels):
        raise ValueError(f"tools: keep the list of {len(panels)} tool(s) as it was")
    applied = Applied(record=record)
    new_panels = []
    for i, (panel, item) in enumerate(zip(panels, items, strict=True)):
        where = f"tools[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected the tool's fields")
            new_panels.append(panel)
            continue
        if item.get("name") != panel.tool.name:
            problems.append(f"{where}.name: the tool name cannot change here (it was {panel.tool.name!r})")
        tool_data = {
            "name": panel.tool.name,
            **{k: item.get(k) for k in TOOL_FIELDS if item.get(k) is not None},
        }
        try:
            tool = Tool.model_validate(tool_data)
        except ValidationError as exc:
            problems.append(f"{where}.{describe_validation_error(exc)}")
            tool = panel.tool
        reviews_in = item.get("reviews")
        if not isinstance(reviews_in, dict) or set(reviews_in) != {r.persona for r in panel.reviews}:
            problems.append(
                f"{where}.reviews: keep exactly the personas {[r.persona for r in panel.reviews]}"
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
            entries.append(
                _edited_review(
                    entry,
                    reviews_in.get(entry.persona),
                    f"{where}.reviews.{entry.persona}",
                    problems,
                    changed,
                    previous,
                )
            )
        applied.changed[panel.tool.name] = changed
        applied.previous[panel.tool.name] = previous
        new_panels.append(panel.model_copy(update={"tool": tool, "reviews": entries}))
    if problems:
        raise ValueError("\n".join(problems))
    if isinstance(record, Comparison):
        applied.record = record.model_copy(update={"panels": new_panels})
    else:
        applied.record = new_panels[0]
    return applied


def _edited_review(
    entry: ReviewEntry,
    fields: Any,
    where: str,
    problems: list[str],
    changed: list[str],
    previous: dict[str, Any],
) -> ReviewEntry:
    if fields is None:
        return entry
    if not isinstance(fields, dict) or set(fields) - {"score", "verdict", "review"}:
        problems.append(f"{where}: only score, verdict and review can be edited")
        return entry
    values = {"score": entry.score, "verdict": entry.verdict, "review": entry.review, **fields}
    if isinstance(values["review"], str):
        values["review"] = values["review"].strip()
    try:
        review = Review(persona=entry.persona, **values)
    except ValidationError as exc:
        problems.append(f"{where}.{describe_validation_error(exc)}")
        return entry
    threshold = entry.provenance.ship_threshold
    expected = "ship" if review.score >= threshold else "skip"
    if review.verdict != expected:
        problems.append(
            f"{where}.verdict: {review.verdict!r} disagrees with score {review.score} "
            f"({entry.persona} ships at {threshold} or more, so this score means {expected!r})"
        )
        return entry
    for key in ("score", "verdict", "review"):
        if getattr(entry, key) != getattr(review, key):
            changed.append(f"reviews.{entry.persona}.{key}")
            previous[f"reviews.{entry.persona}.{key}"] = getattr(entry, key)
    return entry.model_copy(
        update={"score": review.score, "verdict": review.verdict, "review": review.review}
    )


def with_history(
    record: ToolPanel | Comparison, by: str, fields: list[str], previous: dict[str, Any], at: Any = None
) -> Any:
    at = at or utcnow()
    change = Change(at=at, by=by, action="edited", fields=fields, previous=previous)
    return record.model_copy(update={"history": [*record.history, change], "updated_at": at})


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


def edit_loop(record: ToolPanel | Comparison, path: Path, command: list[str] | None = None) -> Applied | None:
    """Open the view until it validates; None when the reviewer cancels or changes nothing."""
    original = view(record, path)
    text = original
    for _ in range(MAX_ROUNDS):
        saved = run_editor(text, command)
        if not saved.strip() or strip_errors(saved) == strip_errors(original) or saved == text:
            return None
        try:
            applied = apply_view(record, strip_errors(saved))
        except (ValueError, InputError) as exc:
            message = exc.line() if isinstance(exc, InputError) else str(exc)
            message = message.replace("edit.yaml: ", "")
            errors = [f"{ERROR_MARK}{line}" for line in message.splitlines()]
            text = "\n".join(
                [*errors, "# Fix the problems above, or empty the file to cancel.", strip_errors(saved)]
            )
            continue
        if not any(applied.changed.values()):
            return None
        return applied
    raise PanelError(f"gave up after {MAX_ROUNDS} rounds of invalid edits; nothing was changed", where=path)


def _carry_over(target: ToolPanel, edited: ToolPanel, fields: list[str]) -> ToolPanel:
    """Copy the edited fields of one panel onto another copy of the same tool's panel."""
    tool = target.tool
    tool_fields = [f.split(".", 1)[1] for f in fields if f.startswith("tool.")]
    if tool_fields:
        tool = tool.model_copy(update={k: getattr(edited.tool, k) for k in tool_fields})
    reviews = []
    for entry in target.reviews:
        keys = [f.rsplit(".", 1)[1] for f in fields if f.startswith(f"reviews.{entry.persona}.")]
        source = edited.review_for(entry.persona)
        if keys and source is not None:
            entry = entry.model_copy(update={k: getattr(source, k) for k in keys})
        reviews.append(entry)
    return target.model_copy(update={"tool": tool, "reviews": reviews})


def save_edit(path: Path, applied: Applied, by: str, outputs: Any) -> list[tuple[Path, str]]:
    """Write the edited record, with history. A comparison's edits also go to each tool's panel
    file, the source every comparison is rebuilt from, so a later `panel compare` keeps them."""
    from panel.store import load_record, write_record

    record = applied.record
    at = utcnow()  # one moment for every copy of the change
    written: list[tuple[Path, str]] = []
    if isinstance(record, Comparison):
        panels = []
        for panel in record.panels:
            fields = applied.changed[panel.tool.name]
            if fields:
                panel = with_history(panel, by, fields, applied.previous[panel.tool.name], at)
                panel_path = outputs.panel_path(panel.tool.name)
                if panel_path.exists():
                    loaded = load_record(panel_path, ToolPanel)
                    if loaded.edited:
                        written.append((panel_path, "not updated: it was edited by hand; edit it too"))
                    else:
                        updated = with_history(
                            _carry_over(loaded.record, panel, fields),
                            by,
                            fields,
                            applied.previous[panel.tool.name],
                        )
                        write_record(panel_path, updated)
                        written.append((panel_path, "updated"))
            panels.append(panel)
        every = [f"{name}: {f}" for name, fs in applied.changed.items() for f in fs]
        previous = {f"{name}: {k}": v for name, prev in applied.previous.items() for k, v in prev.items()}
        record = with_history(record.model_copy(update={"panels": panels}), by, every, previous, at)
    else:
        name = record.tool.name
        record = with_history(record, by, applied.changed[name], applied.previous[name], at)
    write_record(path, record.model_copy(update={"checksum": None}))
    written.insert(0, (path, "updated"))
    return written
