"""Persona files: the shipped four, a fifth dropped in, and errors in persona files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from panel.core import resources
from panel.errors import ConfigError
from panel.inputs.personas import load_personas, select
from panel.records import Review

from conftest import EXAMPLES


def test_the_four_shipped_personas(workdir: Path):
    personas = load_personas()
    assert [p.id for p in personas] == ["builder", "skeptic", "futurist", "founder"]
    for p in personas:
        assert sorted(p.anchors) == [20, 50, 70, 90]
        assert p.ship_threshold == 60
        assert p.lens and p.must_name and p.must_not and p.tone
        assert p.digest and p.path is not None
        # The worked example is a valid review in the persona's own voice.
        assert p.example is not None
        Review(
            persona=p.id,
            score=p.example.score,
            verdict=p.verdict_for(p.example.score),
            review=p.example.review,
        )


def test_a_persona_file_in_the_working_directory_adds_a_reviewer(workdir: Path):
    (workdir / "personas").mkdir()
    shutil.copy(EXAMPLES / "personas" / "creator.yaml", workdir / "personas" / "creator.yaml")
    assert [p.id for p in load_personas()] == ["builder", "skeptic", "futurist", "founder", "creator"]


def test_a_local_file_with_the_same_id_replaces_the_installed_one(workdir: Path):
    (workdir / "personas").mkdir()
    text = (
        (resources.installed("personas") / "skeptic.yaml")
        .read_text()
        .replace("ship_threshold: 60", "ship_threshold: 75")
    )
    (workdir / "personas" / "skeptic.yaml").write_text(text)
    skeptic = {p.id: p for p in load_personas()}["skeptic"]
    assert skeptic.ship_threshold == 75
    assert skeptic.path == workdir / "personas" / "skeptic.yaml"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("id: creator", "id: maker"), "does not match the file name"),
        (
            lambda t: t.replace("  90: changes how", "  95: changes how"),
            "anchors: needs exactly",
        ),
        (lambda t: t.replace("ship_threshold: 60", "ship_threshold: 150"), "ship_threshold"),
        (lambda t: t.replace("tone:", "voice:"), "tone: required field is missing"),
        (lambda t: t + "\nid: again\n", "duplicate key 'id'"),
    ],
)
def test_bad_persona_files(workdir: Path, edit, message):
    (workdir / "personas").mkdir()
    path = workdir / "personas" / "creator.yaml"
    path.write_text(edit((EXAMPLES / "personas" / "creator.yaml").read_text()))
    with pytest.raises(ConfigError) as info:
        load_personas()
    assert message in info.value.line() and str(path) in info.value.line()


def test_select_by_id_and_unknown_persona(workdir: Path):
    personas = load_personas()
    assert [p.id for p in select(personas, ["founder", "builder"])] == ["founder", "builder"]
    with pytest.raises(ConfigError, match="unknown persona 'nobody'"):
        select(personas, ["nobody"])
