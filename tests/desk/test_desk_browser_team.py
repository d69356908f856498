"""A team on the desk in a real browser: Debian's chromium driven by Playwright, two people in two
browser contexts (their own cookies), each signed in with their own link. Four flows: assignment,
the lock notice, the four-eyes refusal, and an approval that publishes."""

from __future__ import annotations

import json
from pathlib import Path

from test_desk_browser import RECORD, sign_in

from panel.team.policy import write_policy

TITLE = "Quillstack vs Ledgerlight"


def queue_rows(page: object) -> list[tuple[str, str]]:
    """(title, assigned) for each comparison in the queue as shown."""
    rows = page.locator("table.queue tbody tr")  # type: ignore[attr-defined]
    return [
        (
            rows.nth(i).locator("td >> nth=0 >> a").inner_text(),
            rows.nth(i).locator("td.assigned").inner_text(),
        )
        for i in range(rows.count())
        if rows.nth(i).locator("td.assigned").count()
    ]


def published(example_outputs: Path) -> dict:
    return json.loads((example_outputs / "published/quillstack-vs-ledgerlight.json").read_text())


def test_a_publisher_assigns_a_draft_and_it_is_in_the_reviewers_drafts(
    browser, desk_server, example_outputs, team_links
):
    desk = desk_server(example_outputs)
    pat, ana = sign_in(browser, desk, team_links["pat"]), sign_in(browser, desk, team_links["ana"])
    assert "Nothing is assigned to you" in ana.inner_text("table.queue")  # "My drafts" comes first
    pat.goto(desk.url + RECORD)
    assert pat.inner_text(".assigned-line") == "Not assigned to anyone."
    pat.select_option("select[name=assignee]", "ana")
    pat.click("button:has-text('Assign')")
    assert "Assigned." in pat.inner_text("[role=status]")
    assert pat.inner_text(".assigned-line").startswith("Assigned to ana by pat since")
    pat.goto(desk.url + "/?view=all&kind=comparison")
    assert queue_rows(pat) == [(TITLE, "ana")]

    ana.goto(desk.url + "/")
    assert ana.locator(".tabs a.current").inner_text() == "My drafts (1)"
    assert queue_rows(ana) == [(TITLE, "you")]
    ana.click(f"text={TITLE}")
    ana.click("button:has-text('Hand it back')")
    assert "Handed back" in ana.inner_text("[role=status]")
    ana.goto(desk.url + "/")
    assert queue_rows(ana) == [] and ana.locator(".tabs a.current").inner_text() == "My drafts (0)"
    for page in (pat, ana):
        page.context.close()


def test_opening_a_draft_someone_has_shows_who_and_since_when(
    browser, desk_server, example_outputs, team_links
):
    desk = desk_server(example_outputs)
    ana, bo = sign_in(browser, desk, team_links["ana"]), sign_in(browser, desk, team_links["bo"])
    ana.goto(desk.url + RECORD)
    ana.click("button:has-text('Take it')")
    assert ana.inner_text(".assigned-line").startswith("Assigned to you since")
    bo.goto(desk.url + RECORD)
    lock = bo.inner_text(".notice.lock")
    assert lock.startswith("ana has this draft since ") and "last active" in lock
    assert bo.locator("button:has-text('Take it')").count() == 0  # held: not offered
    bo.fill(
        "[name='tools[0].reviews.founder.review']",
        bo.input_value("[name='tools[0].reviews.founder.review']") + " Noted.",
    )
    bo.click("button.primary >> nth=0")  # a save still works
    assert "Saved." in bo.inner_text("[role=status]")
    for page in (ana, bo):
        page.context.close()


def test_four_eyes_refuses_the_publisher_who_changed_the_verdict(
    browser, desk_server, example_outputs, team_links
):
    write_policy(example_outputs, four_eyes=True)
    desk = desk_server(example_outputs)
    pat, lee = sign_in(browser, desk, team_links["pat"]), sign_in(browser, desk, team_links["lee"])
    pat.goto(desk.url + RECORD)
    pat.fill("[name='tools[0].reviews.builder.score']", "50")
    pat.select_option("[name='tools[0].reviews.builder.verdict']", "skip")
    pat.click("button.primary >> nth=0")
    assert "Saved." in pat.inner_text("[role=status]")
    assert "You cannot publish this draft" in pat.inner_text(".four-eyes")
    pat.click("button:text-is('Publish')")
    refusal = pat.inner_text("[role=alert]")
    assert (
        "cannot publish: the four-eyes rule is on and pat changed Quillstack: reviews.builder.score"
        in refusal
    )
    assert not (example_outputs / "published").exists()
    pat.click("button:has-text('Ask for publication')")
    assert "Sent for approval" in pat.inner_text("[role=status]")

    lee.goto(desk.url + "/")
    assert lee.locator(".tabs a.current").inner_text() == "Awaiting approval (1)"
    lee.click(f"text={TITLE}")
    lee.click("button:has-text('Approve and publish')")
    assert "Published." in lee.inner_text("[role=status]")
    assert published(example_outputs)["published_by"] == "lee"
    for page in (pat, lee):
        page.context.close()


def test_a_reviewer_asks_and_a_publisher_approves_which_publishes(
    browser, desk_server, example_outputs, team_links
):
    desk = desk_server(example_outputs)
    ana, pat = sign_in(browser, desk, team_links["ana"]), sign_in(browser, desk, team_links["pat"])
    ana.goto(desk.url + RECORD)
    assert ana.locator("button:text-is('Publish')").count() == 0  # a reviewer cannot publish
    ana.fill("[name='tools[0].reviews.builder.score']", "50")
    ana.select_option("[name='tools[0].reviews.builder.verdict']", "skip")
    ana.click("button.primary >> nth=0")
    ana.click("button:has-text('Ask for publication')")
    assert "Sent for approval" in ana.inner_text("[role=status]")

    pat.goto(desk.url + "/")
    assert pat.locator(".tabs a.current").inner_text() == "Awaiting approval (1)"
    assert "awaiting approval" in pat.inner_text("table.queue")
    pat.click(f"text={TITLE}")
    approval = pat.locator("section.approval")
    assert "Asked by ana" in approval.inner_text()
    assert "Score 80 → 50 · verdict ship → skip" in approval.inner_text()
    pat.click("button:has-text('Approve and publish')")
    assert "Published." in pat.inner_text("[role=status]")
    copy = published(example_outputs)
    assert copy["published_by"] == "pat"
    assert [(c["by"], c["action"]) for c in copy["history"]][-2:] == [("ana", "edited"), ("pat", "published")]
    pat.goto(desk.url + "/")
    assert pat.locator(".tabs a.current").inner_text() == "Awaiting approval (0)"
    for page in (ana, pat):
        page.context.close()
