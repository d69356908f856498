"""Reading a feed of tools: JSONL, CSV or a folder of tool files, streamed one row at a time.

A bad row is reported (with its line number) and skipped; it never stops the feed. Only a feed
that cannot be read at all is an error. Memory does not grow with the feed's length: lines are
read one at a time, each capped at MAX_ROW_BYTES.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from panel.core.loading import TextProblem, describe_validation_error, loads_json
from panel.errors import InputError
from panel.inputs.toolfiles import load_tool
from panel.records import Tool

MAX_ROW_BYTES = 64_000
CSV_FIELDS = ("name", "description", "tagline", "category", "pricing_entry", "pricing_detail", "url")
TOOL_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class FeedRow:
    """One row: a valid tool, or the reason it was skipped. `where` is a line number or file."""

    where: str
    tool: Tool | None = None
    error: str | None = None
    name: str | None = None


def feed_format(path: Path) -> str:
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InputError(
        f"unknown feed type {suffix or '(no extension)'!r}",
        where=path,
        hint="use a .jsonl file (one tool per line), a .csv file with a header, or a folder of tool files",
    )


def _inline_sources_only(data: dict) -> str | None:
    """Feed rows carry their sources' text inline: a `path` would be read relative to nothing
    the vendor should be able to name."""
    sources = data.get("sources")
    for i, source in enumerate(sources if isinstance(sources, list) else []):
        if isinstance(source, dict) and "path" in source:
            return f"sources[{i}].path: a feed row carries its sources' text inline (use `text`, not `path`)"
    return None


def _validate(data: object, where: str) -> FeedRow:
    name = data.get("name") if isinstance(data, dict) else None
    name = name if isinstance(name, str) else None
    if not isinstance(data, dict):
        return FeedRow(where, error=f"expected an object of tool fields, found {type(data).__name__}")
    problem = _inline_sources_only(data)
    if problem:
        return FeedRow(where, error=problem, name=name)
    try:
        return FeedRow(where, tool=Tool.model_validate(data), name=name)
    except ValidationError as exc:
        return FeedRow(where, error=describe_validation_error(exc), name=name)


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for every line; bytes is None when the line is over the cap."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the feed: {exc.strerror or exc}", where=path) from None
    with handle:
        number = 0
        while True:
            line = handle.readline(MAX_ROW_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_ROW_BYTES and not line.endswith(b"\n"):
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            yield number, line


def _jsonl(path: Path) -> Iterator[FeedRow]:
    for number, raw in _lines(path):
        where = f"line {number}"
        if raw is None:
            yield FeedRow(where, error=f"line is longer than the {MAX_ROW_BYTES:,}-byte limit")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield FeedRow(where, error=f"not valid UTF-8 (byte {exc.start})")
            continue
        try:
            data = loads_json(text)
        except TextProblem as exc:
            yield FeedRow(where, error=exc.in_row())
            continue
        yield _validate(data, where)


def _csv(path: Path) -> Iterator[FeedRow]:
    """Checks the header now (a bad header is a feed error), then streams the rows."""
    lines = _lines(path)
    last = [0]  # the last physical line handed to the csv reader
    bad_lines: dict[int, str] = {}

    def text_lines() -> Iterator[str]:
        for number, raw in lines:
            if number == 1 and raw is not None and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw is None:
                bad_lines[number] = f"line is longer than the {MAX_ROW_BYTES:,}-byte limit"
                raw = b"\n"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad_lines[number] = f"not valid UTF-8 (byte {exc.start})"
                text = "\n"
            last[0] = number
            yield text

    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the CSV feed is empty; it needs a header row", where=path) from None
    except csv.Error as exc:
        raise InputError(f"line 1: the CSV header cannot be read: {exc}", where=path) from None
    header = _csv_header(header, path)

    def rows() -> Iterator[FeedRow]:
        while True:
            start = last[0] + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield FeedRow(f"line {start}", error=f"malformed CSV: {exc}")
                continue
            where = f"line {start}"
            problem = next((bad_lines.pop(n) for n in range(start, last[0] + 1) if n in bad_lines), None)
            if problem:
                yield FeedRow(where, error=problem)
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                name = cells[header.index("name")] if len(cells) > header.index("name") else None
                yield FeedRow(where, error=f"expected {len(header)} fields, found {len(cells)}", name=name)
                continue
            yield _validate(_csv_tool_fields(dict(zip(header, cells, strict=True))), where)

    return rows()


def _csv_header(cells: list[str], path: Path) -> list[str]:
    """The header's column names, or an InputError naming the first bad column."""
    header = [h.strip() for h in cells]
    unknown = [h for h in header if h not in CSV_FIELDS]
    missing = [h for h in ("name", "description") if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        problem = (
            f"unknown column {unknown[0]!r}"
            if unknown
            else f"missing column {missing[0]!r}"
            if missing
            else "a column is named twice"
        )
        raise InputError(
            f"line 1: CSV header: {problem}", where=path, hint=f"columns: {', '.join(CSV_FIELDS)}"
        )
    return header


def _csv_tool_fields(row: dict[str, str]) -> dict[str, object]:
    """A CSV row's cells as tool fields: empty cells left out, the two pricing columns joined."""
    data: dict[str, object] = {k: v for k, v in row.items() if not k.startswith("pricing_") and v != ""}
    if row.get("pricing_entry") or row.get("pricing_detail"):
        data["pricing"] = {
            "entry": row.get("pricing_entry", ""),
            "detail": row.get("pricing_detail", ""),
        }
    data.setdefault("name", row.get("name", ""))
    data.setdefault("description", row.get("description", ""))
    return data


def _folder(path: Path) -> Iterator[FeedRow]:
    """Each tool file as `panel review` reads it (toolfiles.load_tool): a source may name a file
    beside it, since the folder is the vendor's own."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in TOOL_SUFFIXES and p.is_file())
    for file in files:
        try:
            tool = load_tool(file)
        except InputError as exc:
            yield FeedRow(file.name, error=exc.problem)
            continue
        yield FeedRow(file.name, tool=tool, name=tool.name)


def read_feed(path: Path) -> Iterator[FeedRow]:
    """Every row of the feed, in order. Raises InputError only when the feed can't be read."""
    if not path.exists():
        raise InputError("no such feed", where=path)
    kind = feed_format(path)
    return {"jsonl": _jsonl, "csv": _csv, "folder": _folder}[kind](path)


def check_readable(path: Path) -> None:
    """Raise InputError now if the feed cannot be read at all (missing, unknown type, a bad CSV
    header), before anything is written for the run."""
    rows = read_feed(path)
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def count_rows(path: Path) -> int | None:
    """A quick count for progress (lines or files), reading in blocks; None if unknown."""
    try:
        if path.is_dir():
            return sum(1 for p in path.iterdir() if p.suffix.lower() in TOOL_SUFFIXES)
        count = 0
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                count += block.count(b"\n")
        return max(count - (1 if path.suffix.lower() == ".csv" else 0), 0)
    except OSError:
        return None
