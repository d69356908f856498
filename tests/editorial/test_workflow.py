"""The editorial workflow end to end on a real vLLM CPU server: generate, edit, re-run, publish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_editing import NEW_TEXT, scripted_editor

from panel.records import Comparison, ToolPanel
from panel.records.store import load_record

from conftest import run_panel, tiny_profiles, write_models, write_tool
from vllmserver import VLLMServer

A = {"name": "Quillstack", "description": "Builds API reference docs from OpenAPI files and type hints."}
B = {"name": "Ledgerlight", "description": "Meters model tokens per customer and invoices them."}
COMPARISON = "outputs/comparisons/quillstack-vs-ledgerlight.json"


@pytest.fixture
def work(tmp_path: Path, tiny_model: Path, vllm_server: VLLMServer) -> tuple[Path, dict]:
    root = tmp_path / "work"
    root.mkdir()
    write_tool(root / "a.json", **A)
    write_tool(root / "b.json", **B)
    models = write_models(tmp_path / "models.yaml", tiny_profiles(tiny_model, vllm_server.base_url))
    return root, {"PANEL_MODELS_FILE": str(models), "USER": "dana"}


def compare(root: Path, env: dict, *extra: str):
    result = run_panel("compare", "a.json", "b.json", "-m", "tiny-server", *extra, cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.server
def test_hand_edit_survives_compare_and_is_published_with_history(work, vllm_server: VLLMServer):
    root, env = work
    compare(root, env)
    path = root / COMPARISON
    data = json.loads(path.read_text())
    data["panels"][0]["reviews"][1]["review"] = NEW_TEXT  # a reviewer edits the file by hand
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))

    before = vllm_server.requests_total()
    again = compare(root, env)
    assert vllm_server.requests_total() == before
    assert "Kept" in again.stdout and "a person edited it" in again.stdout
    assert load_record(path, Comparison).record.panels[0].reviews[1].review == NEW_TEXT

    # The random model's other seven drafts are word salad: flagged, and not publishable as they are.
    refused = run_panel("publish", COMPARISON, cwd=root, env=env)
    assert refused.returncode == 2 and "flagged degenerate" in refused.stderr
    assert "Quillstack: the skeptic review" not in refused.stderr  # the edited one passes
    assert not (root / "outputs/published").exists()

    data = json.loads(path.read_text())
    for p_index, panel in enumerate(data["panels"]):
        for r_index, review in enumerate(panel["reviews"]):
            if (p_index, r_index) != (0, 1):
                review["review"] = NEW_TEXT.replace(
                    "Edited by a reviewer", f"Rewritten by reviewer {r_index}"
                )
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    published = run_panel("publish", COMPARISON, cwd=root, env=env)
    assert published.returncode == 0, published.stderr
    record = load_record(root / "outputs/published/quillstack-vs-ledgerlight.json", Comparison).record
    assert record.status == "published" and record.published_by == "dana"
    skeptic = record.panels[0].reviews[1]
    assert skeptic.review == NEW_TEXT and skeptic.edited and skeptic.original.review != NEW_TEXT
    actions = [(c.action, c.by) for c in record.history]
    assert ("edited", "dana") in actions and actions[-1] == ("published", "dana")
    edited = next(c for c in record.history if c.action == "edited").fields
    assert "Quillstack: reviews.skeptic.review" in edited and len(edited) == 8


@pytest.mark.server
def test_panel_edit_then_fresh_compare_keeps_the_edit_and_regenerates_the_rest(work, vllm_server: VLLMServer):
    root, env = work
    compare(root, env)
    step = f"""
import yaml
head = ''.join(l + '\\n' for l in text.splitlines() if l.startswith('#'))
data = yaml.safe_load(text)
data['tools'][1]['reviews']['founder']['review'] = {NEW_TEXT!r}
text = head + yaml.safe_dump(data, sort_keys=False)
"""
    edited = run_panel("edit", COMPARISON, cwd=root, env={**env, **scripted_editor(root.parent, step)})
    assert edited.returncode == 0, edited.stderr

    before = vllm_server.requests_total()
    fresh = compare(root, env, "--fresh")
    assert vllm_server.requests_total() - before == 7 + 1  # every review but the edited one, and the check
    panel = load_record(root / "outputs/panels/ledgerlight.json", ToolPanel).record
    assert panel.review_for("founder").review == NEW_TEXT
    comparison = load_record(root / COMPARISON, Comparison).record
    assert comparison.panels[1].review_for("founder").review == NEW_TEXT
    assert "Wrote" in fresh.stdout

    forced = compare(root, env, "--force")
    assert "Wrote" in forced.stdout
    panel = load_record(root / "outputs/panels/ledgerlight.json", ToolPanel).record
    assert panel.review_for("founder").review != NEW_TEXT
    regenerated = [c for c in panel.history if c.action == "regenerated"][-1]
    assert regenerated.previous["reviews.founder"]["review"] == NEW_TEXT  # the old text is kept in history
