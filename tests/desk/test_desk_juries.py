"""A jury's review on the desk, in a real browser: every member's vote and paragraph, one action
to adopt a member's paragraph (recorded in the history), and the queue's `split` filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_desk_browser import RECORD, sign_in

from panel.records import Comparison
from panel.records.store import load_record

from factory import jury_review, member_paragraph, panel, write_comparison

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    """Quillstack's skeptic judged by a jury that split; a second comparison with no jury."""
    root = tmp_path / "outputs"
    a = panel("Quillstack")
    split = jury_review("skeptic", [("qwen", 80), ("llama", "failed"), ("gemma", 30)])
    a = a.model_copy(update={"reviews": [split if r.persona == "skeptic" else r for r in a.reviews]})
    write_comparison(root, a, panel("Ledgerlight", (40, 45, 62, 30)))
    write_comparison(root, panel("Inkwell"), panel("Paperclip", (70, 75, 80, 20)))
    return root


def test_members_votes_and_adopting_a_paragraph(browser, desk_server, outputs: Path):
    desk = desk_server(outputs)
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    jury = page.locator(
        ".review.editor", has=page.locator("[name='tools[0].reviews.skeptic.review']")
    ).locator(".jury")
    assert jury.locator("summary").inner_text() == "Jury trio · 3 judges · Split: 1 ship / 1 skip / 1 failed"
    members = jury.locator(".member")
    assert members.count() == 3
    assert "80/100 · ship" in members.nth(0).inner_text()
    assert "failed: the reply hit the token limit twice" in members.nth(1).inner_text()
    assert "the review's text" in members.nth(2).inner_text()  # gemma's paragraph was chosen
    assert member_paragraph("qwen") in members.nth(0).inner_text()
    assert page.locator("select[name='tools[0].reviews.skeptic.verdict']").input_value() == "split"

    members.nth(0).locator("button:has-text('Adopt this paragraph')").click()
    assert "Adopted the jury member's paragraph" in page.inner_text("[role=status]")
    assert page.input_value("[name='tools[0].reviews.skeptic.review']") == member_paragraph("qwen")
    assert "adopted the paragraph of jury member qwen" in page.inner_text(".history")
    record = load_record(outputs / "comparisons/quillstack-vs-ledgerlight.json", Comparison).record
    assert record.panels[0].review_for("skeptic").review == member_paragraph("qwen")
    assert record.history[-1].note == "adopted the paragraph of jury member qwen"

    # An editor sets the verdict; the other reviews' fields (the form sends them all) pass through.
    page.fill("[name='tools[0].reviews.skeptic.score']", "72")
    page.select_option("[name='tools[0].reviews.skeptic.verdict']", "ship")
    page.click("button.primary >> nth=0")
    assert "Saved." in page.inner_text("[role=status]")
    record = load_record(outputs / "comparisons/quillstack-vs-ledgerlight.json", Comparison).record
    assert record.panels[0].review_for("skeptic").verdict == "ship"
    page.context.close()


def test_publish_refuses_a_split_and_the_queue_filters_on_it(browser, desk_server, outputs: Path):
    desk = desk_server(outputs)
    page = sign_in(browser, desk)
    page.goto(desk.url + "/?flag=split")
    rows = page.locator("tbody tr")
    listed = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert len(listed) == 2  # the comparison and Quillstack's panel file; no other record
    assert any("Quillstack vs Ledgerlight" in row for row in listed)
    assert all("Quillstack" in row and "split jury" in row for row in listed)
    page.goto(desk.url + "/")
    assert "Inkwell vs Paperclip" in page.inner_text("main")
    page.goto(desk.url + RECORD)
    page.click("button:has-text('Publish')")
    assert "Quillstack: the skeptic jury is split (1 ship / 1 skip / 1 failed)" in page.inner_text(
        "[role=alert]"
    )
    assert not (outputs / "published").exists()
    page.context.close()
