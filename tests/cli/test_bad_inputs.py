"""The bad-input corpus (tests/data/bad/cases.json): every case exits 2 with one line that names
the file and the place, no traceback, and leaves every file as it was.

Cases cover tool files, feeds, models.yaml, persona files, prompt templates and edited records:
wrong types, out-of-range scores, unknown verdicts, missing fields, huge fields, invalid UTF-8,
a BOM, YAML alias floods, duplicate keys, deep nesting, NaN, empty files and directories.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_panel, tree

CORPUS = REPO / "tests" / "data" / "bad"
CASES = json.loads((CORPUS / "cases.json").read_text())
GOOD_TOOL = "name: Sample\ndescription: A tool used by the bad-input tests.\n"


def place(case: dict, work: Path) -> tuple[Path, list[str]]:
    """Put the case file where its kind is read from; return it and the command to run."""
    source = CORPUS / case["file"]
    kind = case["kind"]
    if kind == "persona":
        target = work / "personas" / "creator.yaml"
    elif kind == "prompt":
        target = work / "prompts" / case.get("as", source.name)
    else:
        target = work / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    (work / "tool.yaml").write_text(GOOD_TOOL)
    rel = str(target.relative_to(work))
    command = {
        "tool": ["review", rel],
        "feed": ["batch", rel],
        "models": ["review", "tool.yaml", "--models-file", rel],
        "persona": ["review", "tool.yaml"],
        "prompt": ["review", "tool.yaml"],
        "record": [case.get("command", "publish"), rel],
    }[kind]
    return target, command


def test_the_corpus_is_broad():
    assert len(CASES) >= 40
    assert {c["kind"] for c in CASES} == {"tool", "feed", "models", "persona", "prompt", "record"}


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(tmp_path: Path, case: dict):
    work = tmp_path / "work"
    work.mkdir()
    target, command = place(case, work)
    before = tree(work)
    result = run_panel(*command, cwd=work, env={"EDITOR": "false", "VISUAL": ""}, timeout=300)
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    if command[0] == "validate":  # a report on stdout, one line per problem
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        assert result.stderr == ""
    else:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.stdout == ""
    assert len(lines) == 1, result.stderr + result.stdout
    line = lines[0]
    assert command[0] == "validate" or line.startswith("panel: error: ")
    assert "Traceback" not in result.stderr + result.stdout
    assert case["expect"] in line, line
    assert target.name in line, line  # the line names the file
    assert tree(work) == before  # nothing written, nothing changed
