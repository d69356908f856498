"""The constraint sent to a vLLM server, and the diagnosis of replies that do not parse. Pure: no
server, no model."""

from __future__ import annotations

import json
import random

import pytest

from panel.engines.base import CHECK_SCHEMA
from panel.engines.decoding import WHITESPACE_FLAG, diagnose, scan_json, structured_outputs
from panel.engines.grammar import _grammar_text
from panel.records import review_decoding_schema

from factory import review_doc

# The reply a stock vLLM server gave to the pre-flight check with the random tiny model.
PADDED_CHECK_REPLY = '{\r\r\r"panel_check": "structured-7f3a", \n\n\n\n\n\t\t\t'
SHIP = review_decoding_schema("skeptic", 60)


# -- diagnose -----------------------------------------------------------------------------------


def test_the_padded_check_reply_is_whitespace_padding_and_names_the_server_flag():
    d = diagnose(PADDED_CHECK_REPLY, "length")
    assert d.kind == "whitespace-padding"
    assert not d.ok
    assert WHITESPACE_FLAG in d.message
    assert (
        WHITESPACE_FLAG
        == """--structured-outputs-config '{"backend":"xgrammar","disable_any_whitespace":true}'"""
    )
    assert "token limit" in d.message
    assert d.whitespace == 13


def test_a_reply_of_only_whitespace_cut_at_the_limit_is_padding():
    assert diagnose("\n\t\r " * 20, "length").kind == "whitespace-padding"
    assert diagnose('{"persona":' + "\t" * 9, "length").kind == "whitespace-padding"


def test_free_text_means_the_schema_was_ignored():
    d = diagnose("Sure! Here is my review of the tool: it is great.", "stop")
    assert d.kind == "free-text"
    assert "first character" in d.message
    assert "structured_outputs" in d.message
    assert diagnose("  Sure", "length").kind == "free-text"
    late = diagnose('{"persona": "skeptic"} and some words', "stop")
    assert late.kind == "free-text"
    assert "character 24" in late.message


def test_a_long_string_cut_at_the_limit_is_truncated_not_padding():
    text = review_doc(12, "skip", "word " * 200)[:700]
    d = diagnose(text, "length")
    assert d.kind == "truncated"
    assert "inside a string" in d.message
    assert "max_tokens" in d.message
    assert WHITESPACE_FLAG not in d.message
    # Pretty-printed JSON cut inside its long string: a little whitespace, still truncation.
    pretty = json.dumps({"persona": "skeptic", "score": 12, "review": "word " * 300}, indent=2)[:900]
    assert diagnose(pretty, "length").kind == "truncated"
    assert diagnose('{"persona":"skeptic","score":1', "length").kind == "truncated"


def test_a_reply_that_stopped_early_is_not_json():
    d = diagnose('{"persona":"skeptic","score":12', "stop")
    assert d.kind == "not-json"
    assert "stop" in d.message
    assert diagnose("", "stop").kind == "not-json"
    number = diagnose("42", "stop")
    assert number.kind == "not-json"
    assert "not the object" in number.message


def test_an_object_is_ok_with_raw_control_characters_in_its_strings():
    text = '{"persona":"skeptic","review":"tab\there\nnewline"}'
    d = diagnose(text, "stop")
    assert d.ok
    assert d.value == {"persona": "skeptic", "review": "tab\there\nnewline"}
    # A document that is complete is fine even when it stopped on length right after.
    assert diagnose(review_doc(70, "ship") + "\n\n\n", "length").ok


def test_messages_show_control_characters_as_escapes():
    d = diagnose(PADDED_CHECK_REPLY, "length")
    assert "\\n\\n" in d.message
    assert "\n" not in d.message


# -- the JSON prefix scanner ----------------------------------------------------------------------

DOCS = [
    '{"a": [1, -2.5e+3, true, false, null, {"b": "x\\u00e9\\n\\""}], "c": {}, "d": []}',
    "[]",
    "0",
    "-0.1E5",
    '"s"',
    '{"k":"raw\ttab\nnewline"}',
    ' \n{ "k" : [ 1 , 2 ] } \n',
]


@pytest.mark.parametrize("doc", DOCS)
def test_every_prefix_of_a_document_is_a_prefix_and_only_the_whole_is_complete(doc: str):
    for end in range(len(doc) + 1):
        scan = scan_json(doc[:end])
        assert scan.prefix, doc[:end]
        try:
            json.loads(doc[:end], strict=False)
        except ValueError:
            parses = False
        else:
            parses = True
        assert scan.complete == parses, doc[:end]


def test_the_scanner_agrees_with_json_loads_on_random_text():
    alphabet = list('{}[]:,"\\ 0123456789-.eE+tfnrulsa\t\n')
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        try:
            json.loads(text, strict=False)
        except ValueError:
            parses = False
        else:
            parses = True
        scan = scan_json(text)
        assert parses == (scan.prefix and scan.complete), text


def test_the_scanner_finds_where_text_stops_being_json():
    assert scan_json("hello").stopped_at == 0
    assert scan_json('{"a" 1}').stopped_at == 5
    assert scan_json('{"a":01}').stopped_at == 6
    assert scan_json('{"a":"bad \\q"}').stopped_at == 11
    scan = scan_json('{"a":\n\n  ')
    assert scan.prefix and not scan.complete and scan.trailing_whitespace == 4
    assert scan_json('{"a":"in a str').in_string


# -- the constraint fragment ----------------------------------------------------------------------


def test_the_json_form_is_the_body_outlines_builds():
    from outlines.models.vllm import VLLMTypeAdapter
    from outlines.types import JsonSchema

    for schema in (CHECK_SCHEMA, SHIP):
        expected = VLLMTypeAdapter().format_output_type(JsonSchema(schema, ensure_ascii=False))
        assert structured_outputs(schema, "json") == expected


def test_the_grammar_form_is_cached_and_each_call_gets_its_own_dict():
    first = structured_outputs(SHIP, "grammar")
    hits = _grammar_text.cache_info().hits
    second = structured_outputs(SHIP, "grammar")
    assert first == second
    assert first is not second and first["structured_outputs"] is not second["structured_outputs"]
    assert _grammar_text.cache_info().hits == hits + 1
    assert set(first["structured_outputs"]) == {"grammar"}
    with pytest.raises(ValueError, match="unknown constraint form"):
        structured_outputs(SHIP, "regex")  # type: ignore[arg-type]
