"""How a JSON schema is sent to a vLLM server, and what a reply that does not parse means.

Two forms of the same constraint:

- ``json``: ``{"structured_outputs": {"json": schema}}``. The server turns the schema into a
  grammar itself, and whether that grammar allows whitespace between JSON tokens is a server
  setting (``--structured-outputs-config '{"disable_any_whitespace": true, ...}'``); vLLM's
  xgrammar and guidance backends ignore the per-request ``disable_any_whitespace`` field. On a
  stock server a model may pad the document with whitespace until ``max_tokens`` runs out.
- ``grammar``: ``{"structured_outputs": {"grammar": G}}`` where G is an EBNF grammar for the
  schema's compact documents only (separators ``,`` and ``:``, no whitespace between tokens). The
  server compiles it as given, so the reply is compact whatever the server's flags. vLLM's
  default backend (``auto``) gives an EBNF grammar to xgrammar; the grammar is kept to the
  syntax llguidance also reads, so a server on ``backend: guidance`` takes it too.

The grammar comes from `grammar.schema_grammar`.

``diagnose`` names the failure of a reply that is not a JSON object in words a user can act on.
Everything here is pure: no I/O, no server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from panel.engines.grammar import schema_grammar

ConstraintForm = Literal["json", "grammar"]
CONSTRAINT_FORMS: tuple[ConstraintForm, ...] = ("json", "grammar")

# The server flag that removes free whitespace from the `json` form.
WHITESPACE_FLAG = """--structured-outputs-config '{"backend":"xgrammar","disable_any_whitespace":true}'"""

_JSON_WHITESPACE = " \t\n\r"


def structured_outputs(schema: dict[str, Any], form: ConstraintForm = "json") -> dict[str, Any]:
    """The request-body fields that make a vLLM server decode under `schema`, in `form`.

    Merge the result into a completions or chat body. The grammar is cached per schema (a batch
    sends the same few schemas thousands of times); a fresh dict is returned on every call.
    """
    if form == "json":
        return {"structured_outputs": {"json": schema}}
    if form == "grammar":
        return {"structured_outputs": {"grammar": schema_grammar(schema)}}
    raise ValueError(f"unknown constraint form {form!r}; use one of {', '.join(CONSTRAINT_FORMS)}")


@dataclass(frozen=True)
class JsonScan:
    """What an incremental read of a reply found.

    `prefix` says whether the text (up to `stopped_at`) could be the start of a JSON document.
    Raw control characters inside strings are accepted, as `json.loads(strict=False)` does,
    because constrained decoders emit them.
    """

    prefix: bool
    complete: bool
    in_string: bool
    stopped_at: int
    whitespace: int
    trailing_whitespace: int


_ESCAPES = set('"\\/bfnrtu')
_HEX = set("0123456789abcdefABCDEF")
_DIGITS = set("0123456789")
_LITERAL_WORDS = {"t": "true", "f": "false", "n": "null"}


ScanState = Literal[
    "value", "value-or-close", "key", "key-or-close", "colon", "after", "string", "number", "literal", "done"
]
# States in which a character belongs to a token; whitespace elsewhere sits between tokens.
_INSIDE_TOKEN = frozenset({"string", "number", "literal"})


class _Scanner:
    """The scanner's state, with one method per state. Each method reads one character and
    returns None to go on, or the JsonScan that ends the read."""

    def __init__(self) -> None:
        self.stack: list[str] = []  # "{" or "["
        self.state: ScanState = "value"
        self.string_is_key = False
        self.escape = 0  # 0: none; 1: after a backslash; 2-5: inside \uXXXX
        self.number = ""  # the number's characters so far
        self.literal, self.literal_at = "", 0
        self.whitespace = self.trailing = 0

    def read(self, text: str) -> JsonScan:
        for i, ch in enumerate(text):
            if self.state not in _INSIDE_TOKEN and ch in _JSON_WHITESPACE:
                self.between_tokens()
                continue
            self.trailing = 0
            stop = self.step(ch, i)
            if stop is not None:
                return stop
        number_done = self.state == "number" and not self.stack and _number_complete(self.number)
        complete = self.state == "done" or number_done
        return JsonScan(True, complete, self.state == "string", len(text), self.whitespace, self.trailing)

    def between_tokens(self) -> None:
        """Count a whitespace character outside any token."""
        self.whitespace += 1
        self.trailing += 1

    def step(self, ch: str, i: int) -> JsonScan | None:
        return _STATES[self.state](self, ch, i)

    def fail(self, i: int, in_string: bool = False) -> JsonScan:
        return JsonScan(False, False, in_string, i, self.whitespace, 0)

    def finish_value(self) -> None:
        self.state = "done" if not self.stack else "after"

    def string(self, ch: str, i: int) -> JsonScan | None:
        if self.escape == 1:
            if ch not in _ESCAPES:
                return self.fail(i, in_string=True)
            self.escape = 2 if ch == "u" else 0
        elif self.escape >= 2:
            if ch not in _HEX:
                return self.fail(i, in_string=True)
            self.escape = 0 if self.escape == 5 else self.escape + 1
        elif ch == "\\":
            self.escape = 1
        elif ch == '"':
            if self.string_is_key:
                self.state = "colon"
            else:
                self.finish_value()
        return None

    def number_char(self, ch: str, i: int) -> JsonScan | None:
        if _number_continues(self.number, ch):
            self.number += ch
            return None
        if not _number_complete(self.number):
            return self.fail(i)
        self.finish_value()  # and read `ch` again in that state
        if ch in _JSON_WHITESPACE:
            self.between_tokens()
            return None
        return self.step(ch, i)

    def literal_char(self, ch: str, i: int) -> JsonScan | None:
        if ch != self.literal[self.literal_at]:
            return self.fail(i)
        self.literal_at += 1
        if self.literal_at == len(self.literal):
            self.finish_value()
        return None

    def value(self, ch: str, i: int) -> JsonScan | None:
        if self.state == "value-or-close" and ch == "]":
            self.stack.pop()
            self.finish_value()
        elif ch in "{[":
            self.stack.append(ch)
            self.state = "key-or-close" if ch == "{" else "value-or-close"
        elif ch == '"':
            self.state, self.string_is_key = "string", False
        elif ch == "-" or ch in _DIGITS:
            self.state, self.number = "number", ch
        elif ch in _LITERAL_WORDS:
            self.state, self.literal, self.literal_at = "literal", _LITERAL_WORDS[ch], 1
        else:
            return self.fail(i)
        return None

    def key(self, ch: str, i: int) -> JsonScan | None:
        if ch == '"':
            self.state, self.string_is_key = "string", True
        elif self.state == "key-or-close" and ch == "}":
            self.stack.pop()
            self.finish_value()
        else:
            return self.fail(i)
        return None

    def colon(self, ch: str, i: int) -> JsonScan | None:
        if ch != ":":
            return self.fail(i)
        self.state = "value"
        return None

    def after(self, ch: str, i: int) -> JsonScan | None:
        opened = self.stack[-1]
        if ch == ",":
            self.state = "key" if opened == "{" else "value"
        elif ch == ("}" if opened == "{" else "]"):
            self.stack.pop()
            self.finish_value()
        else:
            return self.fail(i)
        return None

    def done(self, ch: str, i: int) -> JsonScan | None:
        """Only whitespace may follow a complete document."""
        return JsonScan(False, True, False, i, self.whitespace, 0)


_STATES: dict[ScanState, Callable[[_Scanner, str, int], JsonScan | None]] = {
    "value": _Scanner.value,
    "value-or-close": _Scanner.value,
    "key": _Scanner.key,
    "key-or-close": _Scanner.key,
    "colon": _Scanner.colon,
    "after": _Scanner.after,
    "string": _Scanner.string,
    "number": _Scanner.number_char,
    "literal": _Scanner.literal_char,
    "done": _Scanner.done,
}


def scan_json(text: str) -> JsonScan:
    """Read `text` as the start of one JSON value, one character at a time.

    A small pushdown scanner rather than a regex: it knows whether the text so far can still
    become a JSON document, whether a document was completed, and how much whitespace sits
    between tokens (outside strings), which is what tells padding from a long field cut off.
    """
    return _Scanner().read(text)


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# Every start of a JSON number: a sign, an integer part, then a fraction still open, or an
# exponent still open after an optional complete fraction.
_NUMBER_PREFIX = re.compile(r"-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*|(?:\.[0-9]+)?[eE][+-]?[0-9]*)?)?")


def _number_continues(number: str, ch: str) -> bool:
    """Whether `number + ch` is still the start of a JSON number."""
    return _NUMBER_PREFIX.fullmatch(number + ch) is not None


def _number_complete(number: str) -> bool:
    return _NUMBER.fullmatch(number) is not None


# ---------------------------------------------------------------------------------------------
# Diagnosis

DiagnosisKind = Literal["ok", "free-text", "whitespace-padding", "truncated", "not-json"]

# A reply cut at the token limit counts as whitespace padding when whitespace between tokens makes
# up this share of it, or when it ends in a whitespace run this long. A compact or pretty-printed
# document whose long string was cut off stays well under both.
PADDING_SHARE = 0.2
PADDING_TAIL = 8


@dataclass(frozen=True)
class Diagnosis:
    """What a reply is, and for a failure, a message that says what happened and what to do."""

    kind: DiagnosisKind
    message: str
    value: dict[str, Any] | None = None
    whitespace: int = 0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def diagnose(text: str, finish_reason: str | None) -> Diagnosis:
    """Tell apart a JSON object, a reply that ignored the schema, whitespace padding cut at the
    token limit, another cut at the token limit, and a reply that stopped before it was done.

    `finish_reason` is the server's (`"length"` when `max_tokens` ran out).
    """
    try:
        value = json.loads(text, strict=False)
    except ValueError:
        value = None
    else:
        if isinstance(value, dict):
            return Diagnosis("ok", "the reply is a JSON object", value=value)
    scan = scan_json(text)
    cut = finish_reason == "length"
    stop = f'finish_reason "{finish_reason}"' if finish_reason else "no finish reason"
    size = f"{len(text):,} characters"
    if not scan.prefix:
        blank_before = not text[: scan.stopped_at].strip()
        where = "from its first character" if blank_before else f"from character {scan.stopped_at + 1}"
        return Diagnosis(
            "free-text",
            f"the engine ignored the JSON schema: the reply is not JSON {where} "
            f"({_snippet(text, scan.stopped_at)}). Use vLLM 0.12 or newer, which reads "
            "`structured_outputs`, and look in the server's log for a structured-output error",
            whitespace=scan.whitespace,
        )
    if scan.complete:  # a JSON value, but not an object
        return Diagnosis(
            "not-json",
            f"the reply is a JSON {type(value).__name__ if value is not None else 'value'}, not the "
            f"object the schema asks for ({_snippet(text, 0)}): the server did not apply the schema",
            whitespace=scan.whitespace,
        )
    if (
        cut
        and text
        and (scan.whitespace >= PADDING_SHARE * len(text) or scan.trailing_whitespace >= PADDING_TAIL)
    ):
        return Diagnosis(
            "whitespace-padding",
            f"the reply was cut at the token limit ({stop}) after {size}, "
            f"{scan.whitespace:,} of them whitespace between JSON tokens "
            f"({_snippet(text, max(len(text) - 40, 0))}): the server lets the model put any amount "
            "of whitespace between tokens, and this model spends its token budget on it. Restart the "
            f"vLLM server with {WHITESPACE_FLAG}, or send the schema as a grammar (`constraint: grammar` "
            "in the profile's options); a larger max_tokens does not help",
            whitespace=scan.whitespace,
        )
    if cut:
        inside = "inside a string" if scan.in_string else "before the JSON object was closed"
        return Diagnosis(
            "truncated",
            f"the reply was cut at the token limit ({stop}) {inside}, after {size}: raise "
            "max_tokens in the profile, or shorten the fields the schema asks for",
            whitespace=scan.whitespace,
        )
    return Diagnosis(
        "not-json",
        f"the reply stopped ({stop}) after {size} before the JSON object was complete "
        f"({_snippet(text, max(len(text) - 40, 0))}): the server stopped it early. A `stop` string in "
        "the profile's sampling options ends a reply wherever it matches; remove it",
        whitespace=scan.whitespace,
    )


def _snippet(text: str, at: int, width: int = 40) -> str:
    """A short piece of `text` from `at`, with control characters written as escapes."""
    piece = "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text[at : at + width])
    return f"{'…' if at else ''}{piece}{'…' if at + width < len(text) else ''}"
