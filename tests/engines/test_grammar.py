"""The grammar form: a schema as an EBNF grammar of its compact documents. Pure: no server, no
model; xgrammar and llguidance (installed with vLLM) check the grammars."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from panel.engines.base import CHECK_SCHEMA
from panel.engines.grammar import _xgrammar_text, integer_sequences, schema_grammar
from panel.inputs.personas import load_personas
from panel.records import claims_decoding_schema, review_decoding_schema

from factory import review_doc

SHIP = review_decoding_schema("skeptic", 60)
# The shape of the claims pass's schema: a bounded list of objects split on a status, enums of
# quoted text (with quotes, a backslash, a newline and an emoji) and of sentence ids.
SPANS = ["costs $5", 'says "free"', "back\\slash", "two\nlines", "😀 fast"]
CLAIMS = {
    "type": "object",
    "properties": {
        "claims": {
            "type": "array",
            "maxItems": 12,
            "items": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "text": {"enum": SPANS},
                            "status": {"enum": ["unsupported"]},
                            "evidence": {"enum": ["none"]},
                        },
                        "required": ["text", "status", "evidence"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "text": {"enum": SPANS},
                            "status": {"enum": ["supported", "contradicted"]},
                            "evidence": {"enum": ["s1", "s2"]},
                        },
                        "required": ["text", "status", "evidence"],
                        "additionalProperties": False,
                    },
                ]
            },
        }
    },
    "required": ["claims"],
    "additionalProperties": False,
}


def accepts(grammar: str, text: str | bytes) -> bool:
    """Whether xgrammar's matcher takes `text` as one whole sentence of `grammar`."""
    xgr = pytest.importorskip("xgrammar")
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo([]), cache_enabled=False)
    matcher = xgr.GrammarMatcher(compiler.compile_grammar(grammar), terminate_without_stop_token=True)
    return matcher.accept_string(text) and matcher.is_terminated()


# -- the grammar ---------------------------------------------------------------------------------


def test_the_check_grammar_takes_only_the_three_compact_replies():
    grammar = schema_grammar(CHECK_SCHEMA)
    for n in (40, 41, 42):
        assert accepts(grammar, f'{{"panel_check":"structured-7f3a","n":{n}}}')
    assert not accepts(grammar, '{"panel_check":"structured-7f3a","n":43}')
    assert not accepts(grammar, '{"panel_check": "structured-7f3a","n":40}')
    assert not accepts(grammar, '{\r\r\r"panel_check":"structured-7f3a","n":40}')
    assert not accepts(grammar, '{"panel_check":"structured-7f3a","n":40} ')


def test_the_review_grammar_allows_no_whitespace_between_tokens():
    grammar = schema_grammar(SHIP)
    compact = review_doc(70, "ship")
    assert accepts(grammar, compact)
    # Whitespace inserted at every place between tokens where a JSON grammar could allow it.
    for at in [m.end() for m in re.finditer(r'[{,:]|"(?=[,}])|\d(?=,)', compact)] + [0]:
        for ws in (" ", "\n", "\t", "\r"):
            assert not accepts(grammar, compact[:at] + ws + compact[at:]), (at, ws)
    assert not accepts(grammar, json.dumps(json.loads(compact)))  # json.dumps puts a space after , and :


def test_the_review_grammar_keeps_the_verdict_split_and_the_length_bounds():
    grammar = schema_grammar(SHIP)
    assert accepts(grammar, review_doc(60, "ship"))
    assert accepts(grammar, review_doc(100, "ship"))
    assert accepts(grammar, review_doc(0, "skip"))
    assert accepts(grammar, review_doc(59, "skip"))
    assert not accepts(grammar, review_doc(59, "ship"))
    assert not accepts(grammar, review_doc(60, "skip"))
    assert not accepts(grammar, review_doc(101, "ship"))
    assert not accepts(grammar, review_doc(-1, "skip"))
    assert not accepts(grammar, review_doc(7, "skip", persona="builder"))
    assert accepts(grammar, review_doc(70, "ship", "é" * 300))
    assert accepts(grammar, review_doc(70, "ship", "😀" * 1200))
    assert not accepts(grammar, review_doc(70, "ship", "x" * 299))
    assert not accepts(grammar, review_doc(70, "ship", "x" * 1201))


def test_review_strings_hold_no_raw_control_characters_so_replies_are_strict_json():
    grammar = schema_grammar(SHIP)
    raw_tab = review_doc(70, "ship", "x" * 300).replace('"x', '"\tx', 1)
    assert not accepts(grammar, raw_tab)
    assert accepts(grammar, review_doc(70, "ship", "\x7f\ud7ff\ue000\U0010ffff" * 100))


def test_a_utf8_encoded_surrogate_counts_as_one_character_to_xgrammar():
    """A known quirk, kept so a change in xgrammar shows: the bytes ED A0 80 (a UTF-8-encoded
    surrogate) pass as one string character, and a client decodes them as three U+FFFD, so such a
    reply is 2 characters over maxLength. llguidance refuses a class that leaves surrogates out."""
    grammar = schema_grammar(SHIP)
    doc = review_doc(70, "ship", "x" * 1200).encode()
    surrogate = doc.replace(b"x", b"\xed\xa0\x80", 1)
    assert accepts(grammar, surrogate)
    assert len(json.loads(surrogate.decode(errors="replace"))["review"]) == 1202
    assert accepts(_xgrammar_text(json.dumps(SHIP)), surrogate)  # the json form's grammar too


def test_token_masks_agree_with_the_matcher():
    """Every token the mask allows must then be accepted. xgrammar 0.2.8 breaks this for a string
    class spelled as ranges up to U+10FFFF (the server then fails the request with HTTP 500,
    "grammar rejected tokens"); the negated class the writer uses keeps them in step."""
    xgr = pytest.importorskip("xgrammar")
    from xgrammar.testing import bitmask_to_bool_mask

    words = [chr(c) for c in range(32, 127)] + [' "', '{"', ",\"'", "[]:,\"'", '"}', '","', "é", "😀", "ab"]
    vocab = [w.encode() for w in words] + [b"\xed", b"\xa0", b"\x80", b"\xc3", b"\xe2\x82", b"</s>"]
    info = xgr.TokenizerInfo(vocab, vocab_type=xgr.VocabType.RAW, stop_token_ids=[len(vocab) - 1])
    compiler = xgr.GrammarCompiler(info, cache_enabled=False)
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 20, "maxLength": 60},
            "n": {"type": "integer", "minimum": 0, "maximum": 100},
            "free": {"type": "string"},
        },
        "required": ["text", "n", "free"],
    }
    mask = xgr.allocate_token_bitmask(1, info.vocab_size)
    rng = random.Random(0)
    for grammar in (
        schema_grammar(schema),
        schema_grammar(claims_decoding_schema(["s1"], ["GPL-3.0", "the license"])),
    ):
        compiled = compiler.compile_grammar(grammar)
        for _ in range(10):
            matcher = xgr.GrammarMatcher(compiled)
            for _ in range(300):
                if matcher.is_terminated():
                    break
                matcher.fill_next_token_bitmask(mask)
                allowed = bitmask_to_bool_mask(mask, info.vocab_size)[0].nonzero().flatten().tolist()
                token = rng.choice(allowed)
                assert matcher.accept_token(token), vocab[token]


@pytest.mark.parametrize(
    "schema",
    [review_decoding_schema(p.id, t) for p in load_personas() for t in (0, 1, 60, 100, 101)]
    + [
        CHECK_SCHEMA,
        claims_decoding_schema(["s1", "s2"], ["GPL-3.0"]),
        claims_decoding_schema([], ["GPL-3.0"]),
        CLAIMS,
    ],
)
def test_every_panel_schema_gets_a_grammar_both_backends_read(schema: dict[str, Any]):
    grammar = schema_grammar(schema)
    xgr = pytest.importorskip("xgrammar")
    xgr.Grammar.from_ebnf(grammar)
    llguidance = pytest.importorskip("llguidance")
    assert llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("grammar", grammar), None) == ""
    # vLLM sends a grammar containing "::=" to xgrammar's EBNF reader, not its Lark reader.
    assert all(" ::= " in line for line in grammar.splitlines())


def test_the_claims_grammar_bounds_the_list_and_ties_status_to_evidence():
    schema = claims_decoding_schema(["s1", "s2"], ["GPL-3.0", "$30 per seat"])
    grammar = schema_grammar(schema)
    item = {"text": "$30 per seat", "kind": "price", "status": "supported", "evidence": "s2"}
    doc = {"claims": [item] * 12}
    assert accepts(grammar, json.dumps(doc, separators=(",", ":")))
    assert accepts(grammar, '{"claims":[]}')
    assert not accepts(grammar, json.dumps({"claims": [item] * 13}, separators=(",", ":")))
    unsupported = {**item, "status": "unsupported"}
    assert not accepts(grammar, json.dumps({"claims": [unsupported]}, separators=(",", ":")))


def test_enum_literals_quote_text_verbatim_escapes_and_all():
    grammar = schema_grammar(CLAIMS)

    def doc(*items: dict[str, str]) -> str:
        return json.dumps({"claims": list(items)}, ensure_ascii=False, separators=(",", ":"))

    item = {"text": "costs $5", "status": "supported", "evidence": "s2"}
    for span in SPANS:
        assert accepts(grammar, doc({**item, "text": span}))
    assert not accepts(grammar, doc({**item, "text": "costs $6"}))
    assert not accepts(grammar, doc({**item, "status": "unsupported"}))
    assert accepts(grammar, doc({**item, "status": "unsupported", "evidence": "none"}))


def test_escapes_are_allowed_in_strings_without_length_bounds():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    grammar = schema_grammar(schema)
    assert accepts(grammar, '{"a":"say \\"hi\\"\\n\\u00e9"}')
    assert not accepts(grammar, '{"a":"bad \\q"}')
    assert not accepts(grammar, '{"a":"raw\tcontrol"}')


def test_a_schema_beyond_the_writer_falls_back_to_xgrammar_still_compact():
    pytest.importorskip("xgrammar")
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}, "x": {"type": "number"}},
        "required": ["id"],
    }
    grammar = schema_grammar(schema)
    assert accepts(grammar, '{"id":"abc","x":1.5}')
    assert accepts(grammar, '{"id":"abc"}')
    assert not accepts(grammar, '{"id": "abc"}')
    assert not accepts(grammar, '{"id":"ABC"}')
    assert "basic_object" not in grammar  # cut to the rules root reaches


def test_integer_ranges_match_exactly_their_members():
    def regex(low: int, high: int) -> re.Pattern[str]:
        seqs = integer_sequences(low, high)
        return re.compile(
            "|".join("".join(a if a.startswith("[") else re.escape(a) for a in s) for s in seqs)
        )

    for low in range(-25, 26):
        for high in range(low, 130, 7):
            pattern = regex(low, high)
            for v in range(-40, 140):
                assert bool(pattern.fullmatch(str(v))) == (low <= v <= high), (low, high, v)
            for spelling in ("-0", "00", "01", "-", ""):
                assert not pattern.fullmatch(spelling)
    rng = random.Random(5)
    for _ in range(300):
        low = rng.randint(-(10**6), 10**6)
        high = low + rng.randint(0, 10**6)
        pattern = regex(low, high)
        for v in (low, high, low - 1, high + 1, rng.randint(low, high)):
            assert bool(pattern.fullmatch(str(v))) == (low <= v <= high)
