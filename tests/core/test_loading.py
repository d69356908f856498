"""Reading files written by people and vendors: every failure is one line naming file and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.core.loading import TextProblem, load_mapping, loads_json
from panel.errors import InputError
from panel.inputs.toolfiles import load_tool

GOOD = "name: Quillstack\ndescription: Builds docs.\n"


def load(tmp_path: Path, name: str, content: bytes | str) -> dict:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return load_mapping(path)


def test_yaml_and_json_load(tmp_path: Path):
    assert load(tmp_path, "t.yaml", GOOD)["name"] == "Quillstack"
    assert load(tmp_path, "t.json", '{"name": "Q", "description": "d"}')["name"] == "Q"


def test_a_byte_order_mark_is_tolerated(tmp_path: Path):
    assert load(tmp_path, "t.yaml", b"\xef\xbb\xbf" + GOOD.encode())["name"] == "Quillstack"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.yaml", "", "file is empty"),
        ("t.yaml", "- a\n- b\n", "expected a mapping"),
        ("t.yaml", "name: [unclosed\n", "line 2 column 1: invalid YAML"),
        ("t.yaml", "name: a\nname: b\n", "line 2: duplicate key 'name'"),
        ("t.json", '{"name": "a", "name": "b"}', "duplicate key 'name'"),
        ("t.json", '{"name": NaN}', "NaN is not allowed"),
        ("t.json", '{"name": "a",}', "line 1 column 14: invalid JSON"),
        ("t.yaml", b"name: \xff\xfe\n", "line 1: not valid UTF-8"),
        ("t.yaml", "a: &a [1]\n" + "".join(f"b{i}: *a\n" for i in range(60)), "more than 50 aliases"),
        ("t.yaml", "a: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
        ("t.json", '{"a": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32 levels"),
        ("t.yaml", "a: !!python/object/apply:os.system ['echo hi']\n", "invalid YAML"),
        # A lone surrogate: valid JSON and YAML escapes, but no character (see loading's docstring).
        ("t.json", '{"name": "Quill\\ud800stack"}', "$.name: the text holds a lone surrogate (\\ud800)"),
        ("t.json", '{"a": [{"n\\udc00": 1}]}', "$.a[0].n\\udc00: the key holds a lone surrogate (\\udc00)"),
        ("t.yaml", 'name: "Quill\\uD800stack"\n', "$.name: the text holds a lone surrogate (\\ud800)"),
        ("t.yaml", 'a:\n  - "\\U0000DFFF"\n', "$.a[0]: the text holds a lone surrogate (\\udfff)"),
    ],
)
def test_bad_files_give_one_line(tmp_path: Path, name: str, content: str | bytes, message: str):
    with pytest.raises(InputError) as info:
        load(tmp_path, name, content)
    line = info.value.line()
    assert message in line
    assert str(tmp_path / name) in line
    assert "\n" not in line


def test_directory_and_missing_file(tmp_path: Path):
    with pytest.raises(InputError, match="is a directory"):
        load_mapping(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        load_mapping(tmp_path / "missing.yaml")


def test_huge_file_is_refused(tmp_path: Path):
    path = tmp_path / "t.yaml"
    path.write_text("name: a\ndescription: " + "x" * 1_100_000 + "\n")
    with pytest.raises(InputError, match="over the 1,000,000-byte limit"):
        load_mapping(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("description: d\n", "name: required field is missing"),
        ("name: ''\ndescription: d\n", "name: String should have at least 1 character"),
        ("name: A\n", "description: required field is missing"),
        ("name: 12\ndescription: d\n", "name: Input should be a valid string"),
        ("name: A\ndescription: d\nscore: 3\n", "score: unknown field"),
        ("name: A\ndescription: " + "x" * 6001 + "\n", "description: String should have at most 6000"),
    ],
)
def test_bad_tool_fields_name_the_field(tmp_path: Path, content: str, message: str):
    path = tmp_path / "tool.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_tool(path)
    assert info.value.line().startswith(f"{path}: {message}")


def test_a_surrogate_pair_is_one_character_and_reads(tmp_path: Path):
    """Only a lone surrogate is refused: an escaped pair is the character it encodes."""
    assert load(tmp_path, "t.json", '{"name": "Quill \\ud83d\\ude80"}')["name"] == "Quill \U0001f680"


def test_one_strict_reader_for_files_and_rows():
    """`loads_json` is what files, feed rows and votes rows are read with: each refusal says
    what is wrong, and where the parser knows it, the column."""
    for text, problem in [
        ('{"tool": "Q", "tool": "R"}', "invalid JSON: duplicate key 'tool'"),
        ('{"ship": NaN}', "invalid JSON: NaN is not allowed"),
        ('{"ship": -Infinity}', "invalid JSON: -Infinity is not allowed"),
        ('{"tool": "Q\\udfff"}', "$.tool: the text holds a lone surrogate (\\udfff)"),
    ]:
        with pytest.raises(TextProblem) as info:
            loads_json(text)
        assert info.value.in_row().startswith(problem)
    with pytest.raises(TextProblem) as info:
        loads_json('{"tool": "Q",\n "ship": }')
    assert info.value.located() == "line 2 column 10: invalid JSON: Expecting value"
    assert info.value.in_row() == "invalid JSON: Expecting value (column 10)"
