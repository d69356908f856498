"""Writing a tool file from what intake gathered, or refreshing one that exists.

A new file gets name, tagline, description, url and sources. An existing one keeps every field a
person set (name, tagline, description, pricing, the sources they added by hand): only the sources
intake made (those with a `reader`) are replaced. What a person should know (registry facts that
conflict with the pages, a page that needs material by hand) goes in comments at the top. Writes
are atomic, and a file whose content would not change is not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from panel.core.files import atomic_write
from panel.core.loading import describe_validation_error, dump_yaml, load_mapping
from panel.core.text import one_paragraph
from panel.errors import FetchFailed, InputError
from panel.records import MAX_SOURCE_CHARS, Source, Tool
from panel.records.store import slugify

SUFFIX = ".yaml"
_ORDER = ("title", "url", "final_url", "snapshot", "fetched_at", "checked_at", "reader", "left_out", "text")


@dataclass(frozen=True)
class Existing:
    """A tool file already there: its fields, and the sources a person added (kept as written)."""

    data: dict[str, Any]
    kept: list[dict[str, Any]]

    def kept_sources(self, folder: Path) -> list[Source]:
        """Stand-ins with the kept sources' titles and sizes, for budgets and unique titles."""
        return [
            Source(title=str(s.get("title") or "source"), text="x" * max(1, self._size(s, folder)))
            for s in self.kept
        ]

    @staticmethod
    def _size(source: dict[str, Any], folder: Path) -> int:
        if isinstance(source.get("text"), str):
            return len(source["text"])
        file = folder / str(source.get("path", ""))
        return min(file.stat().st_size, MAX_SOURCE_CHARS) if file.is_file() else 0


@dataclass(frozen=True)
class Written:
    path: Path
    status: Literal["written", "updated", "unchanged"]


def tool_path(folder: Path, name: str) -> Path:
    """The tool file for a name: a safe slug (never a path a vendor chose) in `folder`."""
    return folder / f"{slugify(name)}{SUFFIX}"


def existing(path: Path) -> Existing | None:
    """The file at `path`, if there is one (InputError when it cannot be read: a person's file
    that does not parse is never overwritten)."""
    if not path.exists():
        return None
    data = load_mapping(path)
    found = data.get("sources")
    sources = found if isinstance(found, list) else []
    kept = [s for s in sources if isinstance(s, dict) and not s.get("reader")]
    return Existing(data, kept)


def source_data(source: Source) -> dict[str, Any]:
    """A source as a tool file holds it: its fields in reading order, the long text last."""
    data = source.model_dump(mode="json", exclude_defaults=True)
    return {key: data[key] for key in _ORDER if key in data}


def header(notes: Sequence[str]) -> str:
    """Comments for a person: how the file is maintained, then each note on one line."""
    lines = [
        "# Taken in by `panel intake`. Edit any field: a later intake keeps your fields and your own",
        "# sources, and refreshes only the sources it made (those with a `reader`).",
    ]
    lines += [f"# {one_paragraph(note)}" for note in notes]
    return "\n".join(lines) + "\n"


def write_tool_file(
    path: Path,
    fields: dict[str, str],
    sources: Sequence[Source],
    before: Existing | None,
    notes: Sequence[str],
) -> Written:
    """Write the tool file at `path` (name, tagline, description, url and sources), or refresh the
    one there (its sources intake made, nothing else); nothing is written when nothing changed."""
    made = [source_data(s) for s in sources]
    if before is not None:
        data = dict(before.data)
        data["sources"] = before.kept + made
        if not data["sources"]:
            del data["sources"]
        if data == before.data:
            return Written(path, "unchanged")
    else:
        data = {k: v for k, v in {**fields, "sources": made}.items() if v}
        try:
            Tool.model_validate(data)
        except ValidationError as exc:
            raise FetchFailed(
                f"what was read does not make a valid tool: {describe_validation_error(exc)}",
                where=fields.get("url", str(path)),
            ) from None
    atomic_write(path, (header(notes) + dump_yaml(data)).encode())
    return Written(path, "written" if before is None else "updated")


def read_existing(path: Path) -> Existing | None:
    """`existing`, with a file that cannot be read reported as a failure of this entry."""
    try:
        return existing(path)
    except InputError as exc:
        raise FetchFailed(
            f"{path}: {exc.problem}; fix it or move it away (it is not overwritten)", where=str(path)
        ) from None
