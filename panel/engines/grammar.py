"""A JSON schema as an EBNF grammar of its compact documents: the `grammar` constraint form.

The grammar is written here, in plain Python, for the schema keywords panel's own schemas use
(objects with every property required, ``const``, ``enum``, ``anyOf``, bounded integers, strings
with length bounds, arrays, booleans, null). For anything else xgrammar derives it (that import
pulls in torch, several seconds, which is why it is not the first choice). Pure: no I/O.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any


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
