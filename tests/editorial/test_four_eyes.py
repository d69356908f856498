"""The four-eyes rule with the CLI: `panel edit` as one person, `panel publish` as the same person
(refused, saying why, nothing written) and as another (published); the audit log agrees with the
history."""

from __future__ import annotations

import json
from pathlib import Path

from test_editing import scripted_editor

from panel.records import Comparison
from panel.records.store import load_record

from conftest import record_tree, run_panel
from factory import write_example_comparison

VERDICT_TO_SKIP = (
    'text = text.replace("score: 80\\n", "score: 50\\n", 1).replace("verdict: ship", "verdict: skip", 1)'
)


def _edited_by_ana(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "outputs"
    record = write_example_comparison(root)
    env = {**scripted_editor(tmp_path, VERDICT_TO_SKIP), "USER": "ana"}
    edited = run_panel("edit", str(record), "--out", str(root), cwd=tmp_path, env=env)
    assert edited.returncode == 0, edited.stderr
    assert load_record(record, Comparison).record.panels[0].review_for("builder").verdict == "skip"
    return root, record


def test_with_four_eyes_on_whoever_changed_the_verdict_cannot_publish_it(tmp_path: Path):
    root, record = _edited_by_ana(tmp_path)
    on = run_panel(
        "desk", "policy", "--four-eyes", "on", "--out", str(root), cwd=tmp_path, env={"USER": "lead"}
    )
    assert on.returncode == 0 and "four-eyes: on" in on.stdout, on.stderr
    before = record_tree(root)

    for who in (["--editor", "ana"], []):  # --editor, then $USER
        refused = run_panel(
            "publish", str(record), "--out", str(root), *who, cwd=tmp_path, env={"USER": "ana"}
        )
        assert refused.returncode == 2 and refused.stdout == ""
        [line] = refused.stderr.strip().splitlines()
        assert "four-eyes rule is on and ana changed Quillstack: reviews.builder.score" in line
        assert "someone else must publish it" in line and str(record) in line
        assert record_tree(root) == before

    published = run_panel("publish", str(record), "--out", str(root), "--editor", "pat", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    copy = json.loads((root / "published/quillstack-vs-ledgerlight.json").read_text())
    assert copy["published_by"] == "pat"
    assert [(c["by"], c["action"]) for c in copy["history"]][-2:] == [("ana", "edited"), ("pat", "published")]

    # The audit log has each person's history entries, as the history has them.
    log = [json.loads(line) for line in (root / ".team/audit.jsonl").read_text().splitlines()]
    changes = [
        (e["user"], e["action"], e["record"], e["at"]) for e in log if e["action"] in ("edited", "published")
    ]
    files = {
        "comparisons/quillstack-vs-ledgerlight.json": record,
        "panels/quillstack.json": root / "panels/quillstack.json",
        "published/quillstack-vs-ledgerlight.json": root / "published/quillstack-vs-ledgerlight.json",
    }
    history = [
        (c["by"], c["action"], rel, c["at"].replace("+00:00", "Z"))
        for rel, path in files.items()
        for c in json.loads(path.read_text())["history"]
        if c["action"] in ("edited", "published")
        and not (rel.startswith("published/") and c["action"] == "edited")  # copied from the draft
    ]
    assert sorted(changes) == sorted(history) and len(changes) == 3
    assert {e["via"] for e in log if e["action"] in ("edited", "published")} == {"cli"}


def test_with_four_eyes_off_the_editor_may_publish(tmp_path: Path):
    root, record = _edited_by_ana(tmp_path)
    published = run_panel("publish", str(record), "--out", str(root), "--editor", "ana", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
