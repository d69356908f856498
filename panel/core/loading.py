"""Safe reading of YAML and JSON files written by people or vendors.

Every failure becomes one line naming the file and the place: no tracebacks, no partial data.
YAML is read with a SafeLoader that also refuses duplicate keys, alias floods and deep nesting;
JSON (`loads_json`, the one strict JSON reader: files, feed rows, votes rows) refuses
NaN/Infinity, duplicate keys and deep nesting.

Both refuse a lone surrogate (the escape `"\\ud800"`: valid JSON and YAML syntax, but no
character, so it cannot be written as UTF-8). The same code point written as raw bytes is
already refused as invalid UTF-8, so an escape is refused too rather than quietly replaced: what
a person or vendor wrote is either read as written or named as the problem. (Pages replace
surrogates that reach them from elsewhere, such as persona names; records never hold any.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from panel.errors import InputError, PanelError

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_ALIASES = 50


class _SafeStrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, alias floods (billion laughs) and deep nesting."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"line {mark.line + 1}: more than {MAX_ALIASES} aliases")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.YAMLError(f"line {key_node.start_mark.line + 1}: unhashable key") from None
            if duplicate:
                raise yaml.YAMLError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_SURROGATE = re.compile("[\ud800-\udfff]")


class TextProblem(ValueError):
    """Why a JSON or YAML text is refused, with the line and column where the parser knows them."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None):
        self.problem = problem
        self.line = line
        self.column = column
        super().__init__(self.located())

    def located(self) -> str:
        """'line 3 column 7: invalid JSON: ...', for a whole file."""
        if self.line is None:
            return self.problem
        return f"line {self.line} column {self.column}: {self.problem}"

    def in_row(self) -> str:
        """'invalid JSON: ... (column 7)', for one row of a JSONL file, whose line the caller names."""
        return self.problem + (f" (column {self.column})" if self.column is not None else "")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _escaped(text: str) -> str:
    """Lone surrogates as their escapes (\\ud800), so a message naming them can be printed."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_path(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{_escaped(str(p))}" for p in path)


def _surrogate_problem(path: tuple[Any, ...], text: str, what: str) -> TextProblem:
    found = _escaped(_SURROGATE.findall(text)[0])
    return TextProblem(
        f"{_json_path(path)}: {what} holds a lone surrogate ({found}), which is no character and "
        "cannot be written as UTF-8; remove it, or write the character it stands for"
    )


def refuse_unreadable(value: Any, path: tuple[Any, ...] = ()) -> None:
    """Raise TextProblem for data nested deeper than MAX_DEPTH or holding a lone surrogate in a
    string or a key; the message names the first such place by its JSON path."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _surrogate_problem(path, value, "the text")
        return
    if not isinstance(value, dict | list):
        return
    if len(path) >= MAX_DEPTH:
        raise TextProblem(f"nested deeper than {MAX_DEPTH} levels")
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            raise _surrogate_problem((*path, key), key, "the key")
        refuse_unreadable(item, (*path, key))


def loads_json(text: str) -> Any:
    """The one strict JSON reader: no NaN or Infinity, no duplicate keys, no deep nesting, no
    lone surrogates. Raises TextProblem, which says where."""
    try:
        data = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise TextProblem(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise TextProblem(f"invalid JSON: {exc}") from None
    refuse_unreadable(data)
    return data


def read_text(path: Path, error: type[PanelError] = InputError, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, with one-line errors for the ways that fails."""
    if path.is_dir():
        raise error("is a directory, expected a file", where=path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit", where=path)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("no such file", where=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", where=path) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"line {line}: not valid UTF-8 (byte {exc.start})", where=path) from None


def parse_text(text: str, path: Path, error: type[PanelError] = InputError) -> Any:
    """Parse JSON (for .json) or YAML (anything else) with the safety rules above."""
    try:
        if path.suffix.lower() == ".json":
            return loads_json(text)
        data = yaml.load(text, Loader=_SafeStrictLoader)  # noqa: S506 - a SafeLoader subclass
        refuse_unreadable(data)
        return data
    except TextProblem as exc:
        raise error(exc.located(), where=path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise error(f"{where}invalid YAML: {exc.problem or exc.context}", where=path) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise error(f"invalid YAML: {exc}", where=path) from None


def load_mapping(path: Path, error: type[PanelError] = InputError) -> dict[str, Any]:
    """Load a YAML/JSON file whose top level must be a mapping."""
    data = parse_text(read_text(path, error), path, error)
    if data is None:
        raise error("file is empty", where=path)
    if not isinstance(data, dict):
        raise error(f"expected a mapping of fields at the top, found {type(data).__name__}", where=path)
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """One line for a pydantic error: the field path and the problem, plus how many more."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {msg}{more}"


class _Literal(yaml.SafeDumper):
    """Long text as YAML block scalars, so paragraphs are pleasant to read and edit."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if ("\n" in value or (len(value) > 70 and " " in value)) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Literal.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    """YAML for people: keys in the order given, long text as block scalars, Unicode as is."""
    return yaml.dump(data, Dumper=_Literal, sort_keys=False, allow_unicode=True, width=100)
