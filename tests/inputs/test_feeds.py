"""Feed reading: JSONL, CSV and folders, streamed; bad rows reported with where they are."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from panel.errors import InputError
from panel.inputs.feeds import MAX_ROW_BYTES, count_rows, read_feed
from panel.inputs.toolfiles import load_tool

GOOD = {"name": "Quillstack", "description": "Docs from code."}


def rows(path: Path) -> list[tuple[str, str | None, str | None]]:
    return [(r.where, r.tool.name if r.tool else None, r.error) for r in read_feed(path)]


def test_jsonl_good_bad_and_blank_lines(tmp_path: Path):
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps(GOOD),
        "",
        "{not json",
        json.dumps({"description": "no name"}),
        json.dumps({"name": "", "description": "empty name"}),
        json.dumps({"name": 7, "description": "wrong type"}),
        json.dumps({"name": "Big", "description": "x" * 7000}),
        '["a", "list"]',
        '{"name": "N", "description": NaN}',
        json.dumps(
            {"name": "Ledgerlight", "description": "Billing.", "pricing": {"entry": "Paid", "detail": "x"}}
        ),
        '{"name": "Twice", "description": "a", "description": "b"}',
        '{"name": "Half\\ud800", "description": "d"}',
    ]
    feed.write_text("\n".join(lines) + "\n")
    got = rows(feed)
    assert [g[0] for g in got] == [f"line {n}" for n in (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)]
    assert got[0][1] == "Quillstack" and got[8][1] == "Ledgerlight"
    errors = {g[0]: g[2] for g in got if g[2]}
    assert "invalid JSON" in errors["line 3"]
    assert errors["line 4"] == "name: required field is missing"
    assert "at least 1 character" in errors["line 5"]
    assert "valid string" in errors["line 6"]
    assert "at most 6000 characters" in errors["line 7"]
    assert "expected an object" in errors["line 8"]
    assert "NaN is not allowed" in errors["line 9"]
    # The one strict JSON reader, as for tool files and votes: duplicate keys and lone surrogates.
    assert errors["line 11"] == "invalid JSON: duplicate key 'description'"
    assert errors["line 12"].startswith("$.name: the text holds a lone surrogate (\\ud800)")
    assert errors["line 3"] == "invalid JSON: Expecting property name enclosed in double quotes (column 2)"


def test_jsonl_oversized_and_invalid_utf8_lines(tmp_path: Path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(
        b'{"name": "A", "description": "'
        + b"x" * (MAX_ROW_BYTES + 10)
        + b'"}\n'
        + b'{"name": "\xff", "description": "d"}\n'
        + json.dumps(GOOD).encode()
        + b"\n"
    )
    got = rows(feed)
    assert got[0][0] == "line 1" and "longer than the 64,000-byte limit" in got[0][2]
    assert got[1][0] == "line 2" and "not valid UTF-8" in got[1][2]
    assert got[2] == ("line 3", "Quillstack", None)


def test_csv_rows_pricing_and_line_numbers(tmp_path: Path):
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "name,description,pricing_entry,pricing_detail\n"
        'Quillstack,"Docs from code,\nover two lines",open-source,MIT\n'
        ",missing name,,\n"
        "Ledgerlight,Billing.,paid,\n"
        "Short,row\n"
        "Extra,a,b,c,d\n",
        encoding="utf-8",
    )
    got = list(read_feed(feed))
    assert got[0].tool.pricing.entry == "open-source" and "two lines" in got[0].tool.description
    assert got[1].where == "line 4" and "name" in got[1].error
    assert got[2].where == "line 5" and got[2].tool.name == "Ledgerlight"
    assert got[3].where == "line 6" and "expected 4 fields, found 2" in got[3].error
    assert got[4].where == "line 7" and "found 5" in got[4].error


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,description,score\n", "unknown column 'score'"),
        ("name,tagline\n", "missing column 'description'"),
        ("name,name,description\n", "named twice"),
        ("", "empty"),
    ],
)
def test_csv_bad_header_is_a_feed_error(tmp_path: Path, header: str, message: str):
    feed = tmp_path / "feed.csv"
    feed.write_text(header)
    with pytest.raises(InputError, match=message):
        list(read_feed(feed))


def test_folder_feed(tmp_path: Path):
    (tmp_path / "b.yaml").write_text("name: B\ndescription: d\n")
    (tmp_path / "a.json").write_text(json.dumps(GOOD))
    (tmp_path / "c.yaml").write_text("name: [broken\n")
    (tmp_path / "notes.txt").write_text("ignored")
    got = rows(tmp_path)
    assert [g[0] for g in got] == ["a.json", "b.yaml", "c.yaml"]
    assert got[2][2].startswith("line 2 column 1: invalid YAML")


def test_a_folder_feed_reads_each_file_as_panel_review_does(tmp_path: Path):
    """A folder is the vendor's own: its tool files are read by toolfiles.load_tool, sources
    beside them included, with the same messages as `panel review`."""
    (tmp_path / "pricing.md").write_text("Free for teams of five. Paid plans start at $9 a month.\n")
    (tmp_path / "a.yaml").write_text(
        "name: A\ndescription: d\nsources:\n  - {title: Pricing, path: pricing.md}\n"
    )
    (tmp_path / "b.yaml").write_text("name: B\ndescription: d\nsources:\n  - {title: Up, path: ../x.md}\n")
    (tmp_path / "c.json").write_text('{"name": "C", "description": "d", "name": "D"}')
    a, b, c = read_feed(tmp_path)
    assert a.tool is not None and a.name == "A" and a.tool.sources[0].text.startswith("Free for teams")
    with pytest.raises(InputError) as refused:
        load_tool(tmp_path / "b.yaml")
    assert (b.where, b.tool, b.error) == ("b.yaml", None, refused.value.problem)
    assert "must be a file inside the tool file's folder" in b.error
    assert c.error == "invalid JSON: duplicate key 'name'"


def test_unreadable_feeds(tmp_path: Path):
    with pytest.raises(InputError, match="no such feed"):
        read_feed(tmp_path / "missing.jsonl")
    (tmp_path / "feed.txt").write_text("x")
    with pytest.raises(InputError, match=r"unknown feed type '\.txt'"):
        read_feed(tmp_path / "feed.txt")


def test_feeds_stream_instead_of_loading_whole(tmp_path: Path):
    feed = tmp_path / "big.jsonl"
    line = json.dumps(GOOD) + "\n"
    feed.write_text(line * 200_000)  # about 10 MB
    tracemalloc.start()
    try:
        for i, row in enumerate(read_feed(feed)):
            assert row.tool is not None
            if i == 50_000:
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert count_rows(feed) == 200_000
