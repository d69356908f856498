"""What intake keeps on disk: content-addressed snapshots, tool files that keep a person's
fields, and the record of feed entries taken in (which survives a torn last line)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from panel.errors import FetchFailed
from panel.inputs.toolfiles import load_tool
from panel.intake.fetcher import Response
from panel.intake.snapshots import Snapshots
from panel.intake.state import Taken
from panel.intake.toolfile import existing, header, read_existing, write_tool_file
from panel.records import Source

WHEN = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)


def response(url: str, body: bytes, etag: str = '"e1"') -> Response:
    return Response(url, url, 200, "text/html", "utf-8", body, etag, "", WHEN)


def test_bodies_are_stored_once_by_content_with_the_fetch_beside_them(tmp_path: Path):
    store = Snapshots.under(tmp_path)
    first = store.save(response("http://v.test/a", b"<p>same</p>"))
    second = store.save(response("http://v.test/b", b"<p>same</p>", '"e2"'))
    assert first.sha256 == second.sha256 and first.id == f"sha256:{first.sha256}"
    bodies = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file() and p.name == first.sha256]
    assert len(bodies) == 1 and bodies[0].read_bytes() == b"<p>same</p>"
    assert store.latest("http://v.test/b").etag == '"e2"'  # each address keeps its own validators
    assert store.find(first.id).url == "http://v.test/a"  # the fetch that first stored it
    assert store.body(first) == b"<p>same</p>"


def test_a_damaged_or_missing_snapshot_means_an_unconditional_fetch(tmp_path: Path):
    store = Snapshots.under(tmp_path)
    saved = store.save(response("http://v.test/a", b"body"))
    index = next((tmp_path / "evidence" / "urls").rglob("*.json"))
    index.write_text("{not json")
    assert store.latest("http://v.test/a") is None
    store.save(response("http://v.test/a", b"body"))
    (tmp_path / "evidence" / saved.sha256[:2] / saved.sha256).unlink()
    assert store.latest("http://v.test/a") is None
    assert store.find("sha256:" + "0" * 64) is None and store.find("md5:x") is None


def source(title: str, text: str, reader: str = "page") -> Source:
    return Source(
        title=title,
        text=text,
        url="http://v.test/",
        snapshot="sha256:" + "a" * 64,
        fetched_at=WHEN,
        reader=reader,  # type: ignore[arg-type]
    )


FIELDS = {
    "name": "Fernwick",
    "tagline": "migrations",
    "description": "Fernwick checks migrations.",
    "url": "http://v.test/",
}


def test_a_new_tool_file_loads_as_a_tool_with_dated_sources(tmp_path: Path):
    path = tmp_path / "fernwick.yaml"
    written = write_tool_file(path, FIELDS, [source("Home page", "Fernwick checks migrations.")], None, [])
    assert written.status == "written"
    tool = load_tool(path)
    assert tool.sources[0].fetched_at == WHEN and tool.sources[0].snapshot.startswith("sha256:")
    assert path.read_text().startswith("# Taken in by `panel intake`")


def test_an_update_keeps_every_field_and_source_a_person_set(tmp_path: Path):
    path = tmp_path / "fernwick.yaml"
    write_tool_file(path, FIELDS, [source("Home page", "Old text.")], None, [])
    data = yaml.safe_load(path.read_text())
    data["tagline"] = "A person's better tagline"
    data["pricing"] = {"entry": "paid", "detail": "Checked by hand."}
    data["sources"].append({"title": "Notes from a call", "text": "They said SSO is coming."})
    path.write_text(yaml.safe_dump(data))
    before = existing(path)
    assert before is not None and [s["title"] for s in before.kept] == ["Notes from a call"]
    new = {**FIELDS, "tagline": "the page's tagline"}
    written = write_tool_file(path, new, [source("Home page", "New text.")], before, [])
    assert written.status == "updated"
    tool = load_tool(path)
    assert tool.tagline == "A person's better tagline" and tool.pricing.detail == "Checked by hand."
    assert [(s.title, s.text) for s in tool.sources] == [
        ("Notes from a call", "They said SSO is coming."),
        ("Home page", "New text."),
    ]


def test_nothing_is_written_when_nothing_changed(tmp_path: Path):
    path = tmp_path / "fernwick.yaml"
    write_tool_file(path, FIELDS, [source("Home page", "Text.")], None, [])
    stamp = path.stat().st_mtime_ns
    again = write_tool_file(path, FIELDS, [source("Home page", "Text.")], existing(path), [])
    assert again.status == "unchanged" and path.stat().st_mtime_ns == stamp


def test_notes_are_one_comment_line_each_whatever_the_vendor_wrote():
    text = header(["Conflict: x\nname: injected\u2028more: injected\x85also: injected"])
    assert all(line.startswith("#") for line in text.splitlines())
    assert yaml.safe_load(text + "name: real\n") == {"name": "real"}


def test_a_tool_file_that_does_not_parse_is_never_overwritten(tmp_path: Path):
    path = tmp_path / "fernwick.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(FetchFailed, match="not overwritten"):
        read_existing(path)
    assert path.read_text() == "name: [unclosed\n"


def test_entries_taken_in_are_remembered_per_feed(tmp_path: Path):
    taken = Taken(tmp_path, "http://feeds.test/a.atom")
    taken.add("urn:1", tmp_path / "tools/one.yaml")
    assert "urn:1" in Taken(tmp_path, "http://feeds.test/a.atom")
    assert "urn:1" not in Taken(tmp_path, "http://feeds.test/b.atom")


def test_a_torn_last_line_is_ignored_and_the_next_line_stands_alone(tmp_path: Path):
    taken = Taken(tmp_path, "f")
    taken.add("urn:1", tmp_path / "one.yaml")
    with taken.path.open("ab") as handle:
        handle.write(b'{"feed": "f", "key": "urn:2", "fi')  # kill -9 in the middle of a line
    again = Taken(tmp_path, "f")
    assert again.keys == {"urn:1"}
    again.add("urn:3", tmp_path / "three.yaml")
    assert Taken(tmp_path, "f").keys == {"urn:1", "urn:3"}
