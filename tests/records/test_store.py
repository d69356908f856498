"""outputs/ layout: slugs that stay inside, atomic writes, edit detection."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from panel.core.files import atomic_write
from panel.errors import InputError
from panel.records import Tool, ToolPanel
from panel.records.store import Outputs, ToolLocks, load_record, slugify, write_record

HOSTILE = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "a/../../b",
    "C:\\Windows\\system32",
    "nul\x00byte",
    "CON",
    "aux",
    "lpt1",
    "x" * 10_000,
    "",
    "   ",
    "🚀🚀🚀",
    "数据库工具",
    "Ünïcödé Tööl",
    ".hidden",
    "-rf",
    "name\nwith\nnewlines",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_outputs(tmp_path: Path, name: str):
    slug = slugify(name)
    assert slug and len(slug) <= 70
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert not slug.startswith("-") and slug.lower() not in {"con", "aux", "nul", "lpt1"}
    out = Outputs(tmp_path / "outputs")
    path = out.panel_path(name)
    assert path.parent == out.panels
    atomic_write(path, b"{}")
    assert path.resolve().is_relative_to((tmp_path / "outputs").resolve())


def test_clean_names_keep_readable_slugs():
    assert slugify("Quillstack") == "quillstack"
    assert slugify("mistral-medium-3") == "mistral-medium-3"
    assert slugify("Mistral Medium 3").startswith("mistral-medium-3-")


def test_different_names_never_share_a_slug():
    names = ["Foo Bar", "foo-bar", "foo_bar", "FOO BAR", "foo bar", "数据库", "数据", "x" * 300, "x" * 301]
    slugs = {slugify(n) for n in names}
    assert len(slugs) == len(names)
    assert slugify("foo-bar") == "foo-bar"


def test_comparison_path(tmp_path: Path):
    out = Outputs(tmp_path)
    assert out.comparison_path(["Quillstack", "Ledgerlight"]).name == "quillstack-vs-ledgerlight.json"
    long = out.comparison_path(["y" * 150, "z" * 150, "w" * 150])
    assert len(long.name) < 255 and long.parent == out.comparisons


def test_atomic_write_leaves_no_temp_files(tmp_path: Path):
    target = tmp_path / "a" / "b.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["b.json"]


def test_atomic_write_gives_the_mode_a_plain_write_would(tmp_path: Path):
    """Published pages are served by other users: a 0600 temp file must not become the page."""
    plain = tmp_path / "plain.html"
    plain.write_bytes(b"x")
    target = tmp_path / "page.html"
    atomic_write(target, b"<p>one</p>")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)

    target.chmod(0o640)  # a mode someone chose stays when the file is replaced
    atomic_write(target, b"<p>two</p>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "r.json"
    atomic_write(target, b"old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["r.json"]


def test_edits_are_detected_but_whitespace_is_not_an_edit(tmp_path: Path):
    path = tmp_path / "p.json"
    write_record(path, ToolPanel(tool=Tool(name="A", description="d")))
    assert not load_record(path, ToolPanel).edited
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data, indent=4))  # reformatted, same content
    assert not load_record(path, ToolPanel).edited
    data["tool"]["description"] = "edited by a person"
    path.write_text(json.dumps(data, indent=2))
    assert load_record(path, ToolPanel).edited


def test_broken_record_is_one_clear_error(tmp_path: Path):
    path = tmp_path / "p.json"
    path.write_text('{"kind": "panel",')
    with pytest.raises(InputError, match=r"p\.json: line 1 column \d+: invalid JSON"):
        load_record(path, ToolPanel)


def test_tool_locks_keep_two_processes_apart_and_leave_no_files(tmp_path: Path):
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from panel.records.store import ToolLocks
        locks = ToolLocks(Path({str(tmp_path)!r}) / "outputs")
        path = Path({str(tmp_path)!r}) / "outputs" / "panels" / "x.json"
        print(locks.acquire(path, wait=False), flush=True)
        sys.stdin.readline()
        locks.release(path)
        """
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert other.stdout.readline().strip() == "True"
    locks = ToolLocks(tmp_path / "outputs")
    path = tmp_path / "outputs" / "panels" / "x.json"
    assert not locks.acquire(path, wait=False)  # the other process holds it
    assert locks.acquire(tmp_path / "outputs" / "panels" / "y.json", wait=False)  # another tool is free
    other.stdin.write("\n")
    other.stdin.flush()
    assert locks.acquire(path, wait=True)  # once released, ours
    other.wait(timeout=30)
    locks.release_all()
    assert list(locks.dir.iterdir()) == []
    # A holder killed with SIGKILL never leaves its tool locked.
    killed = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert killed.stdout.readline().strip() == "True"
    killed.kill()
    killed.wait()
    assert locks.acquire(path, wait=False)
    locks.release_all()
