"""Reading tool descriptions: one tool per YAML or JSON file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.errors import InputError
from panel.loading import describe_validation_error, load_mapping
from panel.records import Tool


def parse_tool(data: Any, where: str | Path) -> Tool:
    """Validate one tool mapping; the error names the source and the field."""
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of tool fields, found {type(data).__name__}", where=where)
    try:
        return Tool.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc), where=where) from None


def load_tool(path: Path) -> Tool:
    return parse_tool(load_mapping(path), path)


def load_tools(paths: list[Path]) -> list[Tool]:
    """All tools, or an InputError for the first bad file: nothing runs on partial input."""
    return [load_tool(p) for p in paths]
