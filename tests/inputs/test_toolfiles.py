"""Tool files and their sources: paths stay inside the tool file's folder; feeds carry text inline.

The bad-input corpus covers '..', absolute paths, missing files, wrong suffixes and sizes; these
tests cover what a corpus file cannot hold (a symlink) and the paths that must work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.errors import InputError
from panel.inputs.feeds import read_feed
from panel.inputs.toolfiles import load_tool

from conftest import run_panel, tree

DESCRIPTION = "Burrow keeps secrets encrypted in the repository, with one key per person on the team."


def tool_file(folder: Path, sources: list[dict]) -> Path:
    path = folder / "burrow.json"
    path.write_text(json.dumps({"name": "Burrow", "description": DESCRIPTION, "sources": sources}))
    return path


def test_a_source_path_beside_the_tool_file_is_read_and_kept(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pricing.md").write_text("# Pricing\n\nFree and open source. No paid tier.\n")
    tool = load_tool(
        tool_file(tmp_path, [{"title": "Pricing", "path": "docs/pricing.md", "url": "https://b.example"}])
    )
    (source,) = tool.sources
    assert source.text.startswith("# Pricing") and "No paid tier." in source.text
    assert source.path == "docs/pricing.md" and source.url == "https://b.example"


def test_a_symlink_out_of_the_folder_is_refused_and_nothing_is_written(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for vendors")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pricing.txt").symlink_to(secret)
    tool_file(work, [{"title": "Pricing", "path": "pricing.txt"}])
    before = tree(work)
    result = run_panel("review", "burrow.json", cwd=work, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "burrow.json" in lines[0]
    assert "'pricing.txt' resolves outside the tool file's folder" in lines[0]
    assert "Traceback" not in result.stderr and tree(work) == before


def test_a_symlink_inside_the_folder_is_fine(tmp_path: Path):
    (tmp_path / "real.txt").write_text("Free for one project.")
    (tmp_path / "pricing.txt").symlink_to(tmp_path / "real.txt")
    assert load_tool(tool_file(tmp_path, [{"title": "P", "path": "pricing.txt"}])).sources[0].text == (
        "Free for one project."
    )


@pytest.mark.parametrize("path", ["a/../../x.txt", "..", "/tmp/x.txt"])
def test_paths_out_of_the_folder_are_refused_before_reading(tmp_path: Path, path: str):
    with pytest.raises(InputError, match="inside the tool file's folder"):
        load_tool(tool_file(tmp_path, [{"title": "P", "path": path}]))


def test_a_feed_row_with_a_source_path_is_a_bad_row(tmp_path: Path):
    feed = tmp_path / "feed.jsonl"
    rows = [
        {"name": "A", "description": DESCRIPTION, "sources": [{"title": "P", "path": "pricing.txt"}]},
        {"name": "B", "description": DESCRIPTION, "sources": [{"title": "P", "text": "Free."}]},
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    first, second = list(read_feed(feed))
    assert first.tool is None and "carries its sources' text inline" in (first.error or "")
    assert second.tool is not None and second.tool.sources[0].text == "Free."
