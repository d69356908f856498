"""Editing a jury's review: a split stays until an editor sets the verdict, publishing refuses it
by name until then, and adopting a member's paragraph is one edit the history names."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.editorial import saving
from panel.editorial.adopting import adopt_paragraph
from panel.editorial.editing import EditProblems, apply_fields
from panel.records import Comparison
from panel.records.store import Outputs, file_version, load_record

from conftest import run_panel
from factory import jury_review, member_paragraph, panel, write_comparison


@pytest.fixture
def split_record(tmp_path: Path) -> Path:
    """Quillstack's skeptic judged by a jury that split 1-1 with one member failed."""
    a = panel("Quillstack")
    split = jury_review("skeptic", [("qwen", 80), ("llama", "failed"), ("gemma", 30)])
    a = a.model_copy(update={"reviews": [split if r.persona == "skeptic" else r for r in a.reviews]})
    return write_comparison(tmp_path / "outputs", a, panel("Ledgerlight", (40, 45, 62, 30)))


def test_a_split_is_refused_by_publish_naming_the_persona_until_an_editor_sets_it(
    split_record: Path, tmp_path: Path
):
    refused = run_panel("publish", str(split_record), cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "Quillstack: the skeptic jury is split (1 ship / 1 skip / 1 failed)" in refused.stderr
    assert "an editor sets the verdict" in refused.stderr
    assert not (tmp_path / "outputs/published").exists()

    record = load_record(split_record, Comparison).record
    # Other reviews can be saved with the split left for later (a form sends every field).
    untouched = {"score": "55", "verdict": "split"}
    applied = apply_fields(record, {"Quillstack": {"builder": {"score": "81"}, "skeptic": untouched}})
    assert applied.changed["Quillstack"] == ["reviews.builder.score"]
    with pytest.raises(EditProblems, match="disagrees with score 55"):
        apply_fields(record, {"Quillstack": {"skeptic": {"verdict": "ship"}}})
    decided = apply_fields(record, {"Quillstack": {"skeptic": {"score": "72", "verdict": "ship"}}})
    saving.save_edit(
        split_record, decided, "dana", Outputs(split_record.parents[1]), file_version(split_record)
    )
    published = run_panel("publish", str(split_record), cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    skeptic = load_record(split_record, Comparison).record.panels[0].review_for("skeptic")
    assert (skeptic.verdict, skeptic.original.verdict) == ("ship", "split")  # the jury's draft is kept


def test_adopting_a_members_paragraph_is_one_edit_in_the_history(split_record: Path):
    record = load_record(split_record, Comparison).record
    skeptic = record.panels[0].review_for("skeptic")
    assert skeptic.review == member_paragraph("gemma")  # 80 and 30: equally close, digest decides
    applied = adopt_paragraph(record, 0, "skeptic", "qwen")
    saving.save_edit(
        split_record, applied, "dana", Outputs(split_record.parents[1]), file_version(split_record)
    )
    after = load_record(split_record, Comparison).record
    review = after.panels[0].review_for("skeptic")
    assert review.review == member_paragraph("qwen") and (review.score, review.verdict) == (55, "split")
    change = after.history[-1]
    assert (change.by, change.action, change.fields) == (
        "dana",
        "edited",
        ["Quillstack: reviews.skeptic.review"],
    )
    assert change.note == "adopted the paragraph of jury member qwen"
    assert change.previous == {"Quillstack: reviews.skeptic.review": member_paragraph("gemma")}
    with pytest.raises(EditProblems, match="no paragraph by jury member 'llama'"):
        adopt_paragraph(after, 0, "skeptic", "llama")  # it failed: no paragraph
    with pytest.raises(EditProblems):
        adopt_paragraph(after, 0, "builder", "qwen")  # not a jury review
