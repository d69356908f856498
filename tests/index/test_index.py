"""The record index: in step with the files (sync, the write hook), robust to a broken database,
and the queries the review desk makes."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from panel.editorial.publishing import publish
from panel.errors import InputError
from panel.index import database as record_index
from panel.index import sync as index_sync
from panel.index.database import DB_NAME, RecordIndex, RecordRow, record_id
from panel.inputs.personas import load_personas
from panel.records import (
    Comparison,
    ReviewFailure,
    ToolPanel,
)
from panel.records.store import Outputs, dump_record, load_record, sweep_temp_files, write_record
from panel.stats.compute import collect

from factory import PARAGRAPH, model_claim, panel, review

OTHER = (
    "A second paragraph, written for the index tests, about how the tool fits a small team that "
    "ships every week and keeps its reference pages beside the code it describes in one place. "
    "The editor rewrote the draft after publication, so the desk must show it as changed."
)


def _hand_write(path: Path, record: ToolPanel | Comparison) -> None:
    """Write a record's bytes without panel.records.store (no index hook), with a new mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else None
    path.write_bytes(dump_record(record))
    if old is not None:  # a rewrite within the clock's tick must still look changed
        os.utime(path, ns=(old + 10**9, old + 10**9))


def _ids(page: record_index.QueryPage) -> list[str]:
    return [r.id for r in page.rows]


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    out = Outputs(root)
    a, b = panel("Quillstack"), panel("Ledgerlight", (40, 30, 70, 65))
    for p in (a, b):
        _hand_write(out.panel_path(p.tool.name), p)
    comparison = Comparison(panels=[a, b])
    _hand_write(out.comparison_path(["Quillstack", "Ledgerlight"]), comparison)
    return root


def test_sync_picks_up_new_changed_deleted_and_hand_edited_files(outputs: Path) -> None:
    index = RecordIndex(outputs)
    first = index.sync()
    assert (first.added, first.changed, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert index.sync() == record_index.SyncReport(unchanged=3)
    assert _ids(index.query(sort="title")) == [
        "panels~ledgerlight",
        "panels~quillstack",
        "comparisons~quillstack-vs-ledgerlight",
    ]

    out = Outputs(outputs)
    _hand_write(out.panel_path("Inkwell"), panel("Inkwell"))  # new
    _hand_write(out.panel_path("Quillstack"), panel("Quillstack", (20, 20, 20, 20)))  # changed
    (outputs / "panels" / "ledgerlight.json").unlink()  # deleted
    touched = outputs / "comparisons" / "quillstack-vs-ledgerlight.json"
    os.utime(touched, ns=(touched.stat().st_mtime_ns + 10**9,) * 2)  # touched, same bytes
    report = index.sync()
    assert (report.added, report.changed, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert index.get("panels~ledgerlight") is None
    quill = index.get("panels~quillstack")
    assert quill is not None and quill.counts["reviews"] == 4

    # Changed by hand: the file no longer matches its checksum.
    path = outputs / "panels" / "inkwell.json"
    data = json.loads(path.read_text())
    data["reviews"][0]["score"] = 61
    path.write_text(json.dumps(data, indent=2))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert index.sync().changed == 1
    ink = index.get("panels~inkwell")
    assert ink is not None and "hand-edited" in ink.flags
    assert _ids(index.query(flag="hand-edited")) == ["panels~inkwell"]
    index.close()


def test_a_write_through_store_updates_the_index(outputs: Path) -> None:
    with RecordIndex(outputs) as index:
        index.sync()
        out = Outputs(outputs)
        failed = panel("Inkwell", (80, 55, 70))  # three reviews and a failure
        failed = failed.model_copy(
            update={"failures": [ReviewFailure(persona="founder", reason="cut off at max_tokens")]}
        )
        write_record(out.panel_path("Inkwell"), failed)  # no sync: the hook re-indexed it
        row = index.get("panels~inkwell")
        assert row is not None and row.flags == ("failed",) and row.counts["failed"] == 1
        assert row.path == out.panel_path("Inkwell") and row.title == "Inkwell"
        # A deleted file is dropped by update(), as by sync().
        out.panel_path("Inkwell").unlink()
        index.update(out.panel_path("Inkwell"))
        assert index.get("panels~inkwell") is None


def test_a_locked_index_never_fails_a_write(outputs: Path) -> None:
    RecordIndex(outputs).sync()
    holder = sqlite3.connect(outputs / DB_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        started = time.monotonic()
        write_record(Outputs(outputs).panel_path("Inkwell"), panel("Inkwell"))
        assert time.monotonic() - started < 5  # the hook gives up after its short timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (outputs / "panels" / "inkwell.json").exists()
    with RecordIndex(outputs) as index:
        assert index.get("panels~inkwell") is None  # missed by the hook ...
        assert index.sync().added == 1  # ... and picked up by the next sync (mtime, size)
        assert index.get("panels~inkwell") is not None


@pytest.mark.parametrize("damage", ["garbage", "truncated", "deleted"])
def test_a_corrupt_or_deleted_index_is_rebuilt(outputs: Path, damage: str) -> None:
    with RecordIndex(outputs) as index:
        index.sync()
    db = outputs / DB_NAME
    if damage == "garbage":
        db.write_bytes(b"this is not a database, it is a note someone saved here" * 100)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[:2000])
    else:
        db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with RecordIndex(outputs) as index:
        assert index.sync().added == 3
        assert index.query().total == 3
    assert collect(outputs).tools == 2


def test_stats_survive_an_index_that_cannot_be_opened(outputs: Path) -> None:
    (outputs / DB_NAME).mkdir()  # not a file at all: sqlite cannot open it
    stats = collect(outputs)
    assert (stats.tools, stats.ignored) == (2, 1)


def test_stats_of_a_plain_folder_leave_no_index_behind(tmp_path: Path) -> None:
    folder = tmp_path / "some-panels"
    _hand_write(folder / "a.json", panel("Alpha"))
    _hand_write(folder / "b.json", panel("Beta", (10, 20, 30, 40)))
    stats = collect(folder)
    assert stats.tools == 2
    assert sorted(p.name for p in folder.iterdir()) == ["a.json", "b.json"]


def test_what_the_index_covers(outputs: Path) -> None:
    out = Outputs(outputs)
    _hand_write(outputs / "runs" / "r1" / "panels" / "copy.json", panel("Run Copy"))
    _hand_write(outputs / "panels" / ".hidden.json", panel("Hidden"))
    _hand_write(outputs / "published" / "revisions" / "quillstack.r1.json", panel("Quillstack"))
    (outputs / "panels" / "elsewhere.json").symlink_to(out.panel_path("Quillstack"))
    with RecordIndex(outputs) as index:
        index.sync()
        rows = index.query().rows
        assert sorted(r.id for r in rows) == [
            "comparisons~quillstack-vs-ledgerlight",
            "panels~ledgerlight",
            "panels~quillstack",
        ]
        assert all(r.path.is_relative_to(outputs) and r.path.is_file() for r in rows)
    # The index file is hidden: stats do not count it and the temp-file sweep leaves it.
    assert sweep_temp_files(outputs) == 0 and (outputs / DB_NAME).exists()
    stats = collect(outputs)
    assert (stats.ignored, len(stats.skipped), stats.superseded) == (1, 0, 1)  # the revision


def test_flags_come_from_grounding(tmp_path: Path) -> None:
    personas = load_personas()
    example = next(p.example.review for p in personas if p.example is not None)
    out = Outputs(tmp_path)
    base = panel("Quillstack")

    def with_claim(name: str, span: str, status: str, checked: bool = False) -> ToolPanel:
        tool = base.tool.model_copy(update={"name": name})
        first = base.reviews[0].model_copy(update={"claims": [model_claim(tool, span, status, checked)]})
        return base.model_copy(update={"tool": tool, "reviews": [first, *base.reviews[1:]]})

    span = "a single binary that runs in the build"
    assert span in PARAGRAPH
    records = {
        "contra": with_claim("Contra", span, "contradicted"),
        "unsup": with_claim("Unsup", span, "unsupported"),
        "checked": with_claim("Checked", span, "contradicted", checked=True),
        "stale": with_claim("Stale", "a sentence the review never says", "contradicted"),
        "copier": base.model_copy(
            update={
                "tool": base.tool.model_copy(update={"name": "Copier"}),
                "reviews": [review("builder", 80, text=example), *base.reviews[1:]],
            }
        ),
        "disagrees": base.model_copy(
            update={
                "tool": base.tool.model_copy(update={"name": "Disagrees"}),
                "reviews": [review("builder", 80, verdict="skip"), *base.reviews[1:]],
            }
        ),
    }
    for name, record in records.items():
        _hand_write(out.panel_path(name), record)
    with RecordIndex(tmp_path, personas=personas) as index:
        index.sync()
        flags = {r.title.lower(): r.flags for r in index.query().rows}
        assert flags["contra"] == ("contradicted",)
        assert flags["unsup"] == ("unsupported",)
        assert flags["checked"] == ()  # a person checked it: nothing open
        assert flags["stale"] == ()  # its span is gone from the text: grounding drops it
        assert "copies-example" in flags["copier"]  # (the example also names tools: unsupported)
        assert flags["disagrees"] == ("verdict-disagrees",)
        counts = index.get("panels~checked").counts  # type: ignore[union-attr]
        assert (counts["claims"], counts["contradicted"], counts["checked"], counts["open_contradicted"]) == (
            1,
            1,
            1,
            0,
        )
        assert _ids(index.query(flag="contradicted")) == ["panels~contra"]


def test_personas_in_effect_decide_the_failed_flag(outputs: Path) -> None:
    personas = load_personas()
    three = [p for p in personas if p.id != "founder"]
    out = Outputs(outputs)
    _hand_write(out.panel_path("Trio"), panel("Trio", (80, 55, 70)))  # no founder review
    with RecordIndex(outputs, personas=three) as index:
        index.sync()
        assert index.get("panels~trio").flags == ()  # type: ignore[union-attr]
    with RecordIndex(outputs, personas=personas) as index:  # a persona added: every file re-read
        report = index.sync()
        assert report.changed == 4
        assert index.get("panels~trio").flags == ("failed",)  # type: ignore[union-attr]
        assert index.get("panels~trio").counts["missing"] == 1  # type: ignore[union-attr]


NAMES = (
    "Swagger UI and Redocly already render reference pages from the same definitions, and most "
    "teams have one of them in the build. The new part is the check that an endpoint lost its "
    "description, which is useful but small. A larger vendor can add it in one release."
)


def test_published_and_edited_since_published(outputs: Path) -> None:
    out = Outputs(outputs)
    draft = out.comparison_path(["Quillstack", "Ledgerlight"])
    # A draft written before claims existed: its file holds none, though the text names tools.
    old = load_record(draft, Comparison).record
    skeptic = review("skeptic", 55, text=NAMES)
    first = old.panels[0].model_copy(
        update={"reviews": [old.panels[0].reviews[0], skeptic, *old.panels[0].reviews[2:]]}
    )
    write_record(draft, old.model_copy(update={"panels": [first, old.panels[1]]}))
    with RecordIndex(outputs) as index:
        index.sync()
        assert index.get("comparisons~quillstack-vs-ledgerlight").status == "draft"  # type: ignore[union-attr]
        publish(draft, out, load_personas(), "dana", lambda record, fmt: f"page ({fmt})")
        published = index.get("published~quillstack-vs-ledgerlight")
        assert published is not None and published.status == "published" and published.kind == "comparison"
        assert published.last_change_action == "published" and published.last_change_by == "dana"
        assert index.get("comparisons~quillstack-vs-ledgerlight").status == "published"  # type: ignore[union-attr]
        # The draft is edited after publication (through panel: its checksum stays valid).
        record = load_record(draft, Comparison).record
        edited = record.panels[0].reviews[0].model_copy(update={"review": OTHER})
        panels = [record.panels[0].model_copy(update={"reviews": [edited, *record.panels[0].reviews[1:]]})]
        write_record(draft, record.model_copy(update={"panels": [*panels, record.panels[1]]}))
        assert index.get("comparisons~quillstack-vs-ledgerlight").status == "edited-since-published"  # type: ignore[union-attr]
        assert _ids(index.query(status="edited-since-published")) == ["comparisons~quillstack-vs-ledgerlight"]
        assert _ids(index.query(status="published")) == ["published~quillstack-vs-ledgerlight"]
        assert sorted(_ids(index.query(status="draft"))) == ["panels~ledgerlight", "panels~quillstack"]


def test_queries_filter_search_sort_and_page(tmp_path: Path) -> None:
    out = Outputs(tmp_path)
    for i in range(25):
        record = panel(f"Tool {i:02d}" if i % 5 else f"Widget_{i:02d}%")
        stamp = record.updated_at.replace(day=1 + i)
        record = record.model_copy(update={"updated_at": stamp})
        if i % 4 == 0:
            record = record.model_copy(
                update={
                    "failures": [ReviewFailure(persona="founder", reason="HTTP 500")],
                    "reviews": record.reviews[:3],
                }
            )
        _hand_write(out.panel_path(record.tool.name), record)
    with RecordIndex(tmp_path) as index:
        index.sync()
        everything = index.query(limit=500)
        assert everything.total == 25 and len(everything.rows) == 25
        newest_first = [r.updated_at for r in everything.rows]
        assert newest_first == sorted(newest_first, reverse=True)
        assert [r.title for r in index.query(sort="changed", limit=2).rows] == ["Widget_00%", "Tool 01"]
        titles = [r.title for r in index.query(sort="title", limit=500).rows]
        assert titles == sorted(titles, key=str.casefold)
        # Paging: the pages together are the whole, in order, without repeats.
        pages = [index.query(sort="title", offset=o, limit=10) for o in (0, 10, 20)]
        assert [len(p.rows) for p in pages] == [10, 10, 5] and {p.total for p in pages} == {25}
        assert [r.title for p in pages for r in p.rows] == titles
        # Filters and search combine; search is a case-insensitive substring of a tool name,
        # and % and _ are plain characters.
        failed = index.query(flag="failed", limit=500)
        assert failed.total == 7 and all("failed" in r.flags for r in failed.rows)
        assert index.query(search="WIDGET").total == 5
        assert index.query(search="t_").total == 5  # as a wildcard "_" would match "to" in "Tool"
        assert index.query(search="%").total == 5
        assert index.query(search="tool 1", flag="failed").total == 2  # Tool 12, Tool 16
        assert index.query(kind="comparison").total == 0
        assert index.query(status="published").total == 0
        for bad in ({"sort": "path"}, {"kind": "folder"}, {"flag": "odd"}, {"limit": 0}, {"offset": -1}):
            with pytest.raises(InputError):
                index.query(**bad)  # type: ignore[arg-type]


def test_get_knows_only_indexed_records(outputs: Path) -> None:
    out = Outputs(outputs)
    odd = outputs / "panels" / "Notes (old).json"
    _hand_write(odd, panel("Odd Name"))
    with RecordIndex(outputs) as index:
        index.sync()
        row = index.get(record_id("panels/Notes (old).json"))
        assert isinstance(row, RecordRow) and row.path == odd and row.id.startswith("h-")
        assert all(c.isalnum() or c in "-_~" for r in index.query().rows for c in r.id)
        for probe in (
            "../../etc/passwd",
            "..%2f..%2fetc%2fpasswd",
            "panels~..~..~etc~passwd",
            "/etc/passwd",
            str(out.panel_path("Quillstack")),
            "panels/quillstack.json",
            "panels~quillstack.json",
            "",
            "x" * 5000,
            "panels~missing",
        ):
            assert index.get(probe) is None, probe


def test_two_processes_share_one_index(outputs: Path) -> None:
    """The desk and a CLI command: each has its own connection; a write by one is seen by the
    other at once (WAL), without a sync."""
    desk, cli = RecordIndex(outputs), RecordIndex(outputs)
    desk.sync()
    cli.update(Outputs(outputs).panel_path("Quillstack"))
    _hand_write(Outputs(outputs).panel_path("Inkwell"), panel("Inkwell"))
    cli.update(Outputs(outputs).panel_path("Inkwell"))
    assert desk.get("panels~inkwell") is not None
    desk.close()
    cli.close()


def test_a_big_sync_reads_files_in_worker_processes(outputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build of many records spreads the reading over worker processes; what lands in
    the index is the same as when one process reads everything."""
    out = Outputs(outputs)
    for i in range(12):
        _hand_write(out.panel_path(f"Tool {i}"), panel(f"Tool {i}", (50 + i, 40, 70, 65)))
    with RecordIndex(outputs) as index:
        index.sync()
        alone = index.query(limit=500).rows
    (outputs / DB_NAME).unlink()
    monkeypatch.setattr(index_sync, "CHUNK", 2)
    monkeypatch.setattr(index_sync, "POOL_AFTER", 4)
    monkeypatch.setattr(index_sync, "WORKERS", 2)
    started = []
    real_pool = index_sync.ProcessPoolExecutor

    def pool(*args: object, **kwargs: object) -> object:
        started.append(args)
        return real_pool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index_sync, "ProcessPoolExecutor", pool)
    with RecordIndex(outputs) as index:
        assert index.sync().added == 15
        assert index.query(limit=500).rows == alone
    assert started == [(2,)]


def test_editing_a_grounding_rule_triggers_re_analysis(tmp_path: Path) -> None:
    """ANALYSIS_CODE names the code by path; a layout change that left it matching nothing would
    silently stop re-analysing records after a rule changed."""
    package = index_sync.PACKAGE
    covered = {p.relative_to(package).as_posix() for p in index_sync.analysis_files(package)}
    assert {"grounding/judge.py", "grounding/rules.py", "records/claims.py", "index/facts.py"} <= covered
    copy = tmp_path / "panel"
    for rel in covered:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes((package / rel).read_bytes())
    before = index_sync.code_digest(copy)
    rule = copy / "grounding" / "judge.py"
    rule.write_text(rule.read_text() + "\n# a changed rule\n")
    index_sync.code_digest.cache_clear()
    assert index_sync.code_digest(copy) != before
