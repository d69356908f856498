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

The grammar is written here, in plain Python, for the schema keywords panel's own schemas use
(objects with every property required, ``const``, ``enum``, ``anyOf``, bounded integers, strings
with length bounds, arrays, booleans, null). For anything else xgrammar derives it (that import
pulls in torch, several seconds, which is why it is not the first choice).

``diagnose`` names the failure of a reply that is not a JSON object in words a user can act on.
Everything here is pure: no I/O, no server.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

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


def schema_grammar(schema: dict[str, Any]) -> str:
    """An EBNF grammar (xgrammar's dialect) whose only sentences are `schema`'s compact documents."""
    return _grammar_text(json.dumps(schema, ensure_ascii=False))


@functools.lru_cache(maxsize=256)
def _grammar_text(schema_json: str) -> str:
    try:
        return _GrammarWriter().write(json.loads(schema_json))
    except UnsupportedSchema:
        return _xgrammar_text(schema_json)


class UnsupportedSchema(ValueError):
    """A schema keyword the grammar writer here does not handle."""


# A JSON string character that needs no escape: anything but `"`, the backslash and the control
# characters. Strings are written without escapes so that a length bound counts characters exactly
# (xgrammar does the same), and without control characters, so every reply is strict JSON.
# Written as a negated class on purpose: xgrammar 0.2.8 computes wrong token masks for a class
# spelled as ranges up to U+10FFFF (it allowed tokens that close the string and go on, then
# rejected them: HTTP 500 "grammar rejected tokens"). One quirk stays: xgrammar takes a
# UTF-8-encoded surrogate (ED A0 80) as one character, which a client decodes as three U+FFFD, so
# a random model's string can come back 2 characters over maxLength per such character.
# Excluding the surrogates (`\ud800-\udfff`) would fix that for xgrammar but llguidance then
# refuses the grammar.
_STRING_CHAR = r'[^"\\\x00-\x1f]'
_STRING_ESCAPE = r'"\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4,4})'
_ANNOTATIONS = {"title", "description", "examples", "default", "$comment", "$schema", "$id"}
_TYPE_KEYWORDS = {
    "object": {"properties", "required", "additionalProperties"},
    "string": {"minLength", "maxLength"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "array": {"items", "minItems", "maxItems"},
    "boolean": set(),
    "null": set(),
}


class _GrammarWriter:
    """Writes one rule per schema node, named after its path (`root`, `root_score`, ...)."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def write(self, schema: Any) -> str:
        self.node(schema, "root")
        return "".join(f"{name} ::= {body}\n" for name, body in self.rules.items())

    def node(self, schema: Any, name: str) -> str:
        """Add the rule for `schema` under `name` (made unique); return the rule's name."""
        name = self._unique(name)
        self.rules[name] = ""  # reserve the name before children take theirs
        self.rules[name] = self.expression(schema, name)
        return name

    def _unique(self, name: str) -> str:
        base, i = name, 1
        while name in self.rules:
            name, i = f"{base}_{i}", i + 1
        return name

    def expression(self, schema: Any, name: str) -> str:
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"schema {schema!r}")
        keys = set(schema) - _ANNOTATIONS
        if "const" in schema:
            _only(keys, {"const", "type"})
            return _literal(schema["const"])
        if "enum" in schema:
            _only(keys, {"enum", "type"})
            if not isinstance(schema["enum"], list) or not schema["enum"]:
                raise UnsupportedSchema("enum")
            return " | ".join(_literal(v) for v in schema["enum"])
        if "anyOf" in schema:
            _only(keys, {"anyOf"})
            branches = schema["anyOf"]
            if not isinstance(branches, list) or not branches:
                raise UnsupportedSchema("anyOf")
            return " | ".join(self.node(b, f"{name}_case{i}") for i, b in enumerate(branches))
        kind = schema.get("type")
        if not isinstance(kind, str) or kind not in _TYPE_KEYWORDS:
            raise UnsupportedSchema(f"type {kind!r}")
        _only(keys, {"type"} | _TYPE_KEYWORDS[kind])
        if kind == "object":
            return self.object(schema, name)
        if kind == "array":
            return self.array(schema, name)
        if kind == "string":
            return _string(schema.get("minLength", 0), schema.get("maxLength"))
        if kind == "integer":
            return _integer(schema)
        return '"true" | "false"' if kind == "boolean" else '"null"'

    def object(self, schema: dict[str, Any], name: str) -> str:
        properties = schema.get("properties", {})
        if not isinstance(properties, dict) or set(schema.get("required", [])) != set(properties):
            raise UnsupportedSchema("object properties that are not all required")
        if schema.get("additionalProperties", False) is not False:
            raise UnsupportedSchema("additionalProperties")
        parts = []
        for key, sub in properties.items():
            rule = self.node(sub, f"{name}_{_rule_word(key)}")
            parts.append(f'{_literal(key)} ":" {rule}')
        return '"{" ' + ' "," '.join(parts) + ' "}"' if parts else '"{" "}"'

    def array(self, schema: dict[str, Any], name: str) -> str:
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        if not _is_count(low) or (high is not None and (not _is_count(high) or high < low)):
            raise UnsupportedSchema("minItems/maxItems")
        if high == 0:
            return '"[" "]"'
        item = self.node(schema.get("items", {}), f"{name}_item")
        rest = max(low - 1, 0)  # items after the first
        if high is None:
            more = f' ("," {item})' + ("*" if rest == 0 else f"{{{rest},}}")
        else:  # llguidance refuses the repeat {0,0}
            more = f' ("," {item}){{{rest},{high - 1}}}' if high > 1 else ""
        full = f'"[" {item}{more} "]"'
        return full if low > 0 else f'"[" "]" | {full}'


def _only(keys: set[str], allowed: set[str]) -> None:
    extra = keys - allowed
    if extra:
        raise UnsupportedSchema(", ".join(sorted(extra)))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rule_word(key: str) -> str:
    word = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")
    return word or "p"


def _literal(value: Any) -> str:
    """A JSON value as an EBNF string literal: its compact JSON text, quoted."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(low: Any, high: Any) -> str:
    if not _is_count(low) or (high is not None and (not _is_count(high) or high < low)):
        raise UnsupportedSchema("minLength/maxLength")
    if high == 0:
        return '"\\"\\""'
    if high is None and low == 0:
        return f'"\\"" ({_STRING_CHAR} | {_STRING_ESCAPE})* "\\""'
    bound = f"{{{low},}}" if high is None else f"{{{low},{high}}}"
    return f'"\\"" {_STRING_CHAR}{bound} "\\""'


def _integer(schema: dict[str, Any]) -> str:
    """A bounded integer range as alternatives of digit sequences, e.g. 40..42 -> "4" [0-2]."""
    bounds = {
        k: schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in schema
    }
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in bounds.values()):
        raise UnsupportedSchema("a bound that is not an integer")
    low = max([bounds["minimum"]] * ("minimum" in bounds) + [bounds.get("exclusiveMinimum", -(10**18)) + 1])
    high = min([bounds["maximum"]] * ("maximum" in bounds) + [bounds.get("exclusiveMaximum", 10**18) - 1])
    if "minimum" not in bounds and "exclusiveMinimum" not in bounds:
        raise UnsupportedSchema("an integer with no lower bound")
    if "maximum" not in bounds and "exclusiveMaximum" not in bounds:
        raise UnsupportedSchema("an integer with no upper bound")
    if low > high:
        raise UnsupportedSchema("an empty integer range")
    return " | ".join(_digit_atoms(seq) for seq in integer_sequences(low, high))


def _digit_atoms(sequence: list[str]) -> str:
    """Atoms as EBNF, runs of literal characters fused into one literal: "1" "0" "0" -> "100"."""
    out: list[str] = []
    literal = ""
    for atom in sequence:
        if atom.startswith("["):
            out += [f'"{literal}"'] * bool(literal) + [atom]
            literal = ""
        else:
            literal += atom
    out += [f'"{literal}"'] * bool(literal)
    return " ".join(out)


def integer_sequences(low: int, high: int) -> list[list[str]]:
    """The integers low..high (JSON spelling) as sequences of atoms: a literal ("-", "4") or a
    digit class ("[0-2]"). Each integer in the range matches exactly one sequence."""
    if low < 0:
        negative = [["-", *seq] for seq in _natural_sequences(max(-high, 1), -low)]
        return negative + (_natural_sequences(0, high) if high >= 0 else [])
    return _natural_sequences(low, high)


def _natural_sequences(low: int, high: int) -> list[list[str]]:
    out: list[list[str]] = []
    for width in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (width - 1) if width > 1 else 0)
        hi = min(high, 10**width - 1)
        if lo <= hi:
            out += _same_width(str(lo), str(hi))
    return out


def _same_width(lo: str, hi: str) -> list[list[str]]:
    """Digit strings of one width from lo to hi."""
    if lo == hi:
        return [list(lo)]
    if lo[0] == hi[0]:
        return [[lo[0], *rest] for rest in _same_width(lo[1:], hi[1:])]
    tail = len(lo) - 1
    head: list[list[str]] = []
    first = int(lo[0])
    if lo[1:] != "0" * tail:
        head = [[lo[0], *rest] for rest in _same_width(lo[1:], "9" * tail)]
        first += 1
    foot: list[list[str]] = []
    last = int(hi[0])
    if hi[1:] != "9" * tail:
        foot = [[hi[0], *rest] for rest in _same_width("0" * tail, hi[1:])]
        last -= 1
    middle: list[list[str]] = []
    if first <= last:
        digit = str(first) if first == last else f"[{first}-{last}]"
        middle = [[digit, *(["[0-9]"] * tail)]]
    return head + middle + foot


def _xgrammar_text(schema_json: str) -> str:
    """xgrammar's own grammar for the schema, compact, cut to the rules `root` reaches."""
    import xgrammar

    grammar = xgrammar.Grammar.from_json_schema(schema_json, any_whitespace=False, separators=(",", ":"))
    text = str(grammar)
    pruned = _reachable_rules(text)
    try:  # the pruned text must still be a grammar xgrammar reads; if not, send it whole
        xgrammar.Grammar.from_ebnf(pruned)
    except (RuntimeError, ValueError):
        return text
    return pruned


# A quoted literal or a character class in xgrammar's printed EBNF: rule names inside them are
# not references.
_LITERALS = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]')
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _reachable_rules(ebnf: str, root: str = "root") -> str:
    """Only the rules `root` reaches, in their printed order.

    xgrammar prints a library of generic JSON rules (`basic_*`) with every schema grammar, used or
    not; some use a lookahead that llguidance's reader rejects. Dropping the unused ones keeps
    the grammar shorter, and readable by both backends where the schema allows.
    """
    rules: dict[str, str] = {}
    for line in ebnf.splitlines():
        name, sep, body = line.partition(" ::= ")
        if sep and _NAME.fullmatch(name):
            rules[name] = body
    if root not in rules:
        return ebnf
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(n for n in _NAME.findall(_LITERALS.sub(" ", rules[name])) if n in rules)
    return "".join(f"{name} ::= {body}\n" for name, body in rules.items() if name in seen)


# ---------------------------------------------------------------------------------------------
# Reading a reply


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


def scan_json(text: str) -> JsonScan:
    """Read `text` as the start of one JSON value, one character at a time.

    A small pushdown scanner rather than a regex: it knows whether the text so far can still
    become a JSON document, whether a document was completed, and how much whitespace sits
    between tokens (outside strings), which is what tells padding from a long field cut off.
    """
    stack: list[str] = []  # "{" or "["
    # value | key | key-or-close | colon | after | value-or-close | string | number | literal | done
    state = "value"
    string_is_key = False
    escape = 0  # 0: none; 1: after a backslash; 2-5: inside \uXXXX
    number = ""  # the number's characters so far
    literal, literal_at = "", 0
    whitespace = trailing = 0

    def finish_value() -> str:
        return "done" if not stack else "after"

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if state == "string":
            trailing = 0
            if escape == 1:
                if ch not in _ESCAPES:
                    return JsonScan(False, False, True, i, whitespace, 0)
                escape = 2 if ch == "u" else 0
            elif escape >= 2:
                if ch not in _HEX:
                    return JsonScan(False, False, True, i, whitespace, 0)
                escape = 0 if escape == 5 else escape + 1
            elif ch == "\\":
                escape = 1
            elif ch == '"':
                state = "colon" if string_is_key else finish_value()
            i += 1
            continue
        if state == "number":
            if _number_continues(number, ch):
                number += ch
                i += 1
                continue
            if not _number_complete(number):
                return JsonScan(False, False, False, i, whitespace, trailing)
            state = finish_value()  # and read `ch` again in that state
            continue
        if state == "literal":
            if ch != literal[literal_at]:
                return JsonScan(False, False, False, i, whitespace, trailing)
            literal_at += 1
            if literal_at == len(literal):
                state = finish_value()
            i += 1
            continue
        if ch in _JSON_WHITESPACE:
            whitespace += 1
            trailing += 1
            i += 1
            continue
        trailing = 0
        if state in ("value", "value-or-close"):
            if state == "value-or-close" and ch == "]":
                stack.pop()
                state = finish_value()
            elif ch == "{":
                stack.append("{")
                state = "key-or-close"
            elif ch == "[":
                stack.append("[")
                state = "value-or-close"
            elif ch == '"':
                state, string_is_key = "string", False
            elif ch == "-" or ch in _DIGITS:
                state, number = "number", ch
            elif ch in _LITERAL_WORDS:
                state, literal, literal_at = "literal", _LITERAL_WORDS[ch], 1
            else:
                return JsonScan(False, False, False, i, whitespace, 0)
        elif state in ("key", "key-or-close"):
            if ch == '"':
                state, string_is_key = "string", True
            elif state == "key-or-close" and ch == "}":
                stack.pop()
                state = finish_value()
            else:
                return JsonScan(False, False, False, i, whitespace, 0)
        elif state == "colon":
            if ch != ":":
                return JsonScan(False, False, False, i, whitespace, 0)
            state = "value"
        elif state == "after":
            if ch == ",":
                state = "key" if stack[-1] == "{" else "value"
            elif ch == ("}" if stack[-1] == "{" else "]"):
                stack.pop()
                state = finish_value()
            else:
                return JsonScan(False, False, False, i, whitespace, 0)
        else:  # done: only whitespace may follow a complete document
            return JsonScan(False, True, False, i, whitespace, 0)
        i += 1
    complete = state == "done" or (state == "number" and not stack and _number_complete(number))
    return JsonScan(True, complete, state == "string", n, whitespace, trailing)


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
