"""Community votes: readers' ship/skip counts per tool, kept beside a comparison's panel verdict.

A votes file is CSV (with a header) or JSONL, in one of two shapes:

- counts: `tool,ship,skip`, one row per tool (a tool listed twice is an error);
- single votes: `tool,voter,vote` with vote `ship` or `skip`; a voter counts once per tool, and
  the last vote of a voter for a tool wins (people change their minds).

The whole file is checked before anything is written: a bad row stops the import with one line
naming the file, the line and the problem. The counts replace a comparison's votes for that tool
(the file is the full tally, so importing it twice changes nothing). Votes never change the
panel's decision: `Comparison.decision` is computed from the reviews alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from panel.core.loading import TextProblem, loads_json, read_text
from panel.errors import ConflictError, InputError
from panel.records import MAX_NAME, Change, CommunityVotes, Comparison, utcnow
from panel.records.store import Outputs, file_version, load_record, slugify, write_record_if

MAX_VOTES_BYTES = 20_000_000
MAX_COUNT = 1_000_000_000
MAX_VOTER = 200
SHAPES = {"counts": ("tool", "ship", "skip"), "votes": ("tool", "voter", "vote")}
CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class Tally:
    """A tool's votes from the file. `tool` is the name as the file spells it."""

    tool: str
    ship: int
    skip: int


@dataclass(frozen=True)
class Outcome:
    """What happened to one comparison: updated, unchanged, hand-edited, published or conflict."""

    path: Path
    status: str
    votes: tuple[Tally, ...] = ()  # the tools it holds, as the record spells them, with their votes


# ---------------------------------------------------------------------------------------------
# Reading a votes file


def _rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, fields) for every non-blank row; the CSV header's columns are checked."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 is text
            if not line.strip():
                continue
            try:
                data = loads_json(line)
            except TextProblem as exc:
                raise InputError(f"line {number}: {exc.in_row()}", where=path) from None
            if not isinstance(data, dict):
                raise InputError(
                    f"line {number}: expected an object, found {type(data).__name__}", where=path
                )
            yield number, data
        return
    if path.suffix.lower() != ".csv":
        raise InputError(
            f"unknown votes file type {path.suffix or '(no extension)'!r}",
            where=path,
            hint="use .csv with a header (tool,ship,skip or tool,voter,vote) or .jsonl",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError("the file is empty; it needs a header row", where=path) from None
    except csv.Error as exc:
        raise InputError(f"line 1: the CSV header cannot be read: {exc}", where=path) from None
    if tuple(sorted(header)) not in {tuple(sorted(cols)) for cols in SHAPES.values()}:
        raise InputError(
            f"line 1: CSV header {','.join(header)!r} is neither tool,ship,skip nor tool,voter,vote",
            where=path,
        )
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"line {start}: malformed CSV: {exc}", where=path) from None
        if any(c.strip() for c in cells):
            if len(cells) != len(header):
                raise InputError(
                    f"line {start}: expected {len(header)} fields, found {len(cells)}", where=path
                )
            yield start, dict(zip(header, cells, strict=True))
        start = reader.line_num + 1


def _count(value: object, field: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{field}: expected a whole number from 0 to {MAX_COUNT:,}, found {value!r}")
    return value


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: required, as text")
    if len(value.strip()) > limit:
        raise ValueError(f"{field}: longer than {limit} characters")
    return value.strip()


def read_votes(path: Path) -> list[Tally]:
    """Every tool's tally in the file, in the order tools first appear. The whole file is read
    and checked; InputError names the line of the first bad row."""
    text = read_text(path, max_bytes=MAX_VOTES_BYTES)
    shape: str | None = None
    counts: dict[str, tuple[int, Tally]] = {}  # slug -> (line, tally)
    ballots: dict[tuple[str, str], bool] = {}  # (slug, voter) -> ships; the last vote wins
    names: dict[str, str] = {}  # slug -> the name as first written
    for number, row in _rows(path, text):
        keys = set(row)
        found = next((s for s, cols in SHAPES.items() if keys == set(cols)), None)
        if found is None or (shape is not None and found != shape):
            expected = ", ".join(SHAPES[shape]) if shape else "tool, ship, skip or tool, voter, vote"
            raise InputError(
                f"line {number}: expected the fields {expected}, found {', '.join(row)}", where=path
            )
        shape = found
        try:
            tool = _text(row["tool"], "tool", MAX_NAME)
            slug = slugify(tool)
            names.setdefault(slug, tool)
            if shape == "counts":
                tally = Tally(tool, _count(row["ship"], "ship"), _count(row["skip"], "skip"))
                if slug in counts:
                    raise ValueError(f"tool {tool!r} is listed twice (line {counts[slug][0]} and this one)")
                counts[slug] = (number, tally)
            else:
                voter = _text(row["voter"], "voter", MAX_VOTER)
                vote = row["vote"].strip().lower() if isinstance(row["vote"], str) else row["vote"]
                if vote not in ("ship", "skip"):
                    raise ValueError(f"vote: expected ship or skip, found {row['vote']!r}")
                ballots[(slug, voter)] = vote == "ship"  # a later vote of the voter replaces theirs
        except ValueError as exc:
            raise InputError(f"line {number}: {exc}", where=path) from None
    if shape is None:
        raise InputError("no votes in the file", where=path)
    if shape == "counts":
        return [tally for _, tally in counts.values()]
    ship = dict.fromkeys(names, 0)
    skip = dict.fromkeys(names, 0)
    for (slug, _), ships in ballots.items():
        (ship if ships else skip)[slug] += 1
    return [Tally(names[s], ship[s], skip[s]) for s in names]


# ---------------------------------------------------------------------------------------------
# Applying votes to comparisons


def _tool_in(record: Comparison, tool: str) -> str | None:
    """The record's own spelling of a tool: the same name, else the same slug (the rule that
    makes two names one file)."""
    names = [p.tool.name for p in record.panels]
    if tool in names:
        return tool
    return next((n for n in names if slugify(n) == slugify(tool)), None)


def set_votes(record: Comparison, tool: str, ship: int, skip: int, by: str) -> Comparison:
    """The comparison with `tool`'s community votes set to these counts, and a history entry.
    Unchanged counts give back the same record. The panel's decision does not move: it is
    computed from the reviews alone."""
    name = _tool_in(record, tool)
    if name is None:
        raise InputError(
            f"{tool!r} is not in this comparison",
            hint=f"its tools: {', '.join(p.tool.name for p in record.panels)}",
        )
    try:
        votes = CommunityVotes(ship=ship, skip=skip)
    except ValidationError:
        raise InputError(
            f"votes for {name!r}: ship and skip must be whole numbers of 0 or more, "
            f"found {ship!r} and {skip!r}"
        ) from None
    old = record.community.get(name)
    if old == votes:
        return record
    field = f"community.{name}"
    change = Change(
        by=by, action="voted", fields=[field], previous={field: old.model_dump() if old else None}
    )
    return record.model_copy(
        update={
            "community": {**record.community, name: votes},
            "history": [*record.history, change],
            "updated_at": utcnow(),
        }
    )


def _tool_names(path: Path) -> list[str]:
    """The tool names of a comparison file, read cheaply (no validation) to find candidates."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [p["tool"]["name"] for p in data["panels"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _apply(path: Path, tallies: list[Tally], by: str) -> Outcome:
    """Set the votes in one comparison, re-reading it if it changed between read and write."""
    for _ in range(CONFLICT_RETRIES):
        expect = file_version(path)  # read before the record: a change in between is a conflict
        loaded = load_record(path, Comparison)
        if loaded.edited:
            return Outcome(path, "hand-edited")
        if loaded.record.status == "published":
            return Outcome(path, "published")
        record = loaded.record
        applied = []
        for tally in tallies:
            name = _tool_in(record, tally.tool)
            if name is not None:
                applied.append(Tally(name, tally.ship, tally.skip))
                record = set_votes(record, name, tally.ship, tally.skip, by)
        if record is loaded.record:
            return Outcome(path, "unchanged", tuple(applied))
        try:
            write_record_if(path, record, expect)
        except ConflictError:
            continue  # someone saved it meanwhile: read their version and apply the votes again
        return Outcome(path, "updated", tuple(applied))
    return Outcome(path, "conflict")


def import_votes(
    tallies: list[Tally], outputs: Outputs, by: str, comparison: Path | None = None
) -> tuple[list[Outcome], list[str]]:
    """Set the votes in every draft comparison that includes each tool (or only in `comparison`).
    Returns what happened to each comparison, and the tools no comparison includes."""
    wanted = {slugify(t.tool) for t in tallies}
    if comparison is not None:
        record = load_record(comparison, Comparison).record
        found = {comparison: {slugify(p.tool.name) for p in record.panels} & wanted}
        if not found[comparison]:
            raise InputError(
                "none of the tools in the votes file are in this comparison",
                where=comparison,
                hint=f"its tools: {', '.join(p.tool.name for p in record.panels)}",
            )
    else:
        folder = outputs.comparisons
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        found = {p: hit for p in files if (hit := wanted & {slugify(n) for n in _tool_names(p)})}
        if not found:
            raise InputError(
                f"no comparison under {folder} includes any tool in the votes file",
                hint="check the tool names, or give --out for another outputs folder",
            )
    outcomes = [_apply(path, tallies, by) for path in found]
    reached = set().union(*found.values())
    return outcomes, [t.tool for t in tallies if slugify(t.tool) not in reached]
