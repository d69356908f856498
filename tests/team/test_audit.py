"""The audit log: append-only JSON lines; record changes logged from their history entries, once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from panel.records import Change, utcnow
from panel.records.store import write_record
from panel.team.audit import AuditLog, BadLine, matches

from factory import panel


def test_changes_are_logged_from_the_history_once(tmp_path: Path):
    log = AuditLog(tmp_path)
    path = tmp_path / "panels/quillstack.json"
    since = utcnow()
    earlier = Change(
        at=since - timedelta(minutes=5), by="ana", action="edited", fields=["reviews.builder.score"]
    )
    now = Change(at=since, by="ana", action="edited", fields=["reviews.builder.review"])
    other = Change(at=since, by="bo", action="checked", fields=["reviews.builder.claims"])
    write_record(path, panel("Quillstack").model_copy(update={"history": [earlier, now, other]}))
    [logged] = log.log_changes([path], "ana", since, "desk")
    assert (logged.at, logged.user, logged.action, logged.fields) == (now.at, "ana", "edited", now.fields)
    assert logged.record == "panels/quillstack.json"
    assert log.log_changes([path], "ana", since, "cli") == []  # already there: not twice
    again = Change(at=since, by="ana", action="edited", fields=["reviews.builder.review"])  # same second
    write_record(path, panel("Quillstack").model_copy(update={"history": [earlier, now, other, again]}))
    assert len(log.log_changes([path], "ana", since, "desk")) == 1
    assert [e.action for e in log.read()] == ["edited", "edited"]


def test_read_filters_and_bad_lines(tmp_path: Path):
    log = AuditLog(tmp_path)
    log.append("ana", "signed-in", "desk", note="with a personal link")
    log.append("pat", "approved", "desk", record="comparisons/a-vs-b.json", note="asked by ana")
    with log.path.open("a") as handle:
        handle.write("not json\n")
    log.append("ana", "took", "desk", record="panels/b.json")
    entries = list(log.read())
    assert isinstance(entries[2], BadLine) and entries[2].number == 3
    good = [e for e in entries if not isinstance(e, BadLine)]
    assert [e.action for e in good if matches(e, user="ANA")] == ["signed-in", "took"]
    assert [e.user for e in good if matches(e, record="a-vs-b")] == ["pat"]
    assert [e.user for e in good if matches(e, action="approved")] == ["pat"]
    assert "pat approved comparisons/a-vs-b.json — asked by ana [desk]" in good[1].line()
    assert json.loads(log.path.read_text().splitlines()[0])["via"] == "desk"
