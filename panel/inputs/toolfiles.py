"""Reading tool descriptions: one tool per YAML or JSON file, with the sources it names.

A source is `{title, text}` or `{title, path}` (plus an optional `url`, kept for display). A
`path` is a .txt or .md file beside the tool file: it must resolve inside the tool file's folder
(no `..`, no absolute path, no symlink out), since tool files come from vendors too. Feeds carry
inline text only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.core.loading import describe_validation_error, load_mapping, read_text
from panel.errors import InputError
from panel.records import MAX_SOURCE_CHARS, Tool

SOURCE_SUFFIXES = (".txt", ".md")


def parse_tool(data: Any, where: str | Path) -> Tool:
    """Validate one tool mapping; the error names the source and the field."""
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of tool fields, found {type(data).__name__}", where=where)
    try:
        return Tool.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc), where=where) from None


def _source_label(index: int, source: dict[str, Any]) -> str:
    title = source.get("title")
    return f"sources[{index}]" + (f" ({title!r})" if isinstance(title, str) and title else "")


def source_path(tool_file: Path, index: int, source: dict[str, Any]) -> Path:
    """The file a source's `path` names, checked to stay inside the tool file's folder."""
    label = _source_label(index, source)
    raw = source["path"]
    if not isinstance(raw, str) or not raw.strip():
        raise InputError(f"{label}.path: expected a file name", where=tool_file)
    relative = Path(raw)
    if relative.is_absolute() or ".." in relative.parts:
        raise InputError(
            f"{label}.path: {raw!r} must be a file inside the tool file's folder",
            where=tool_file,
            hint="no absolute paths and no '..'",
        )
    if relative.suffix.lower() not in SOURCE_SUFFIXES:
        raise InputError(f"{label}.path: {raw!r} must be a .txt or .md file", where=tool_file)
    folder = tool_file.resolve().parent
    target = (folder / relative).resolve()  # follows symlinks: a link out of the folder is refused
    if folder not in target.parents:
        raise InputError(
            f"{label}.path: {raw!r} resolves outside the tool file's folder",
            where=tool_file,
            hint="no symlinks out",
        )
    if not target.is_file():
        raise InputError(f"{label}.path: no such file {raw!r}", where=tool_file)
    return target


def resolve_sources(data: dict[str, Any], tool_file: Path) -> dict[str, Any]:
    """The tool mapping with every source's `path` read into its `text`."""
    sources = data.get("sources")
    if not isinstance(sources, list):
        return data
    resolved = []
    for index, source in enumerate(sources):
        if isinstance(source, dict) and "path" in source:
            label = _source_label(index, source)
            if source.get("text"):
                raise InputError(f"{label}: give text or path, not both", where=tool_file)
            path = source_path(tool_file, index, source)
            text = read_text(path, max_bytes=4 * MAX_SOURCE_CHARS)
            if len(text) > MAX_SOURCE_CHARS:
                raise InputError(
                    f"{label}: {source['path']} has {len(text):,} characters, over the "
                    f"{MAX_SOURCE_CHARS:,} limit for one source",
                    where=tool_file,
                    hint="keep the excerpt that matters; sources are refused, not cut",
                )
            source = {**source, "text": text}
        resolved.append(source)
    return {**data, "sources": resolved}


def load_tool(path: Path) -> Tool:
    data = load_mapping(path)
    return parse_tool(resolve_sources(data, path), path)


def load_tools(paths: list[Path]) -> list[Tool]:
    """All tools, or an InputError for the first bad file: nothing runs on partial input."""
    return [load_tool(p) for p in paths]
