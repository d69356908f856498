"""Who works on what, over HTTP against the real server: taking and handing back drafts, the soft
lock and its quiet period, "My drafts" and "Awaiting approval", asking for publication, sending
back, approving (which publishes), the four-eyes rule on the desk, the blind second review, and
the audit log agreeing with every history entry."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from test_desk_accounts import REL, audit, client
from test_desk_security import RECORD, TEXT, form_of

from panel.records import Comparison, ToolPanel, utcnow
from panel.records.store import load_record
from panel.team.policy import write_policy
from panel.team.work import WorkStore

from conftest import record_tree, run_panel

VERDICT = {"tools[0].reviews.builder.score": "50", "tools[0].reviews.builder.verdict": "skip"}
EDIT = "p.read_text().replace('score: 55', 'score: 52', 1)"  # for `panel edit`'s $EDITOR


def rows(page: str) -> list[tuple[str, str]]:
    """The queue's rows: (title, assigned)."""
    found = re.findall(r'<td><a href="/r/[^"]+">([^<]+)</a>.*?<td class="assigned">([^<]*)</td>', page, re.S)
    return [(title, assigned) for title, assigned in found]


def post(who, action: str, **fields: str):
    return who.post(f"{RECORD}/{action}", data={**form_of(who), **fields})


def test_take_lock_hand_back_and_my_drafts(desk_server, example_outputs, team_links):
    desk = desk_server(example_outputs)
    ana, bo, pat = (client(desk, team_links[n]) for n in ("ana", "bo", "pat"))
    assert rows(ana.get("/").text) == []  # a reviewer starts on "My drafts", empty
    assert "Nothing is assigned to you" in ana.get("/").text
    assert post(ana, "take").status_code == 303
    assert rows(ana.get("/").text) == [("Quillstack vs Ledgerlight", "you")]
    assert rows(bo.get("/?view=all&kind=comparison").text) == [("Quillstack vs Ledgerlight", "ana")]

    page = bo.get(RECORD).text
    assert re.search(r'class="notice lock">ana has this draft since \d{4}-\d\d-\d\d \d\d:\d\d UTC', page)
    refused = post(bo, "take")
    assert refused.status_code == 409 and "Not taken: ana has this draft" in refused.text
    saved = post(bo, "save", **{"tools[0].reviews.builder.review": TEXT})  # the lock never stops a save
    assert saved.status_code == 303
    assert post(bo, "hand-back").status_code == 403  # not bo's to hand back

    assert post(pat, "assign", assignee="bo").status_code == 303  # a publisher reassigns it
    assert rows(bo.get("/").text) == [("Quillstack vs Ledgerlight", "you")]
    assert rows(ana.get("/").text) == []
    assert post(pat, "hand-back").status_code == 303
    assert rows(bo.get("/").text) == []
    actions = [(e["user"], e["action"]) for e in audit(example_outputs) if e["record"] == REL]
    assert ("ana", "took") in actions and ("pat", "assigned") in actions and ("pat", "handed-back") in actions


def test_a_lock_is_released_after_the_quiet_period(desk_server, example_outputs, team_links):
    write_policy(example_outputs, lock_minutes=15)
    desk = desk_server(example_outputs)
    ana, bo = client(desk, team_links["ana"]), client(desk, team_links["bo"])
    work = WorkStore(example_outputs)
    work.assign(REL, "ana", "ana", now=utcnow() - timedelta(minutes=16))  # ana took it, then went quiet
    work.close()
    assert "the lock is released" in bo.get(RECORD).text
    assert rows(bo.get("/?view=all&kind=comparison").text)[0][1].startswith("ana (quiet since")
    assert post(bo, "take").status_code == 303
    assert rows(bo.get("/").text) == [("Quillstack vs Ledgerlight", "you")]
    assert "ana" not in rows(ana.get("/?view=all&kind=comparison").text)[0][1]


def test_ask_send_back_and_approve_which_publishes(desk_server, example_outputs, team_links):
    desk = desk_server(example_outputs)
    ana, pat = client(desk, team_links["ana"]), client(desk, team_links["pat"])
    assert "Publish</button>" not in ana.get(RECORD).text  # a reviewer is offered "Ask for publication"
    unsaved = post(ana, "request", **VERDICT)
    assert unsaved.status_code == 422 and "unsaved edits" in unsaved.text
    assert post(ana, "save", **VERDICT).status_code == 303
    assert post(ana, "request").status_code == 303

    queue = pat.get("/").text  # a publisher starts on "Awaiting approval"
    assert rows(queue) == [("Quillstack vs Ledgerlight", "—")] and "awaiting approval" in queue
    page = pat.get(RECORD).text
    assert "Awaiting your approval" in page and "Asked by ana" in page
    assert "Score 80 → 50 · verdict ship → skip" in page
    assert post(pat, "send-back", note="").status_code == 422
    assert post(pat, "send-back", note="Say why the build check is not enough.").status_code == 303
    assert "Sent back by pat" in ana.get(RECORD).text and "Say why the build check" in ana.get(RECORD).text
    assert rows(ana.get("/").text) == [("Quillstack vs Ledgerlight", "you")]  # it came back to ana
    assert rows(pat.get("/").text) == []

    assert post(ana, "request").status_code == 303
    approved = post(pat, "approve")
    assert approved.status_code in (200, 303), approved.text
    published = json.loads((example_outputs / "published/quillstack-vs-ledgerlight.json").read_text())
    assert published["published_by"] == "pat"
    assert [(c["by"], c["action"]) for c in published["history"]][-2:] == [
        ("ana", "edited"),
        ("pat", "published"),
    ]
    assert rows(pat.get("/").text) == [] and rows(ana.get("/").text) == []
    log = [(e["user"], e["action"]) for e in audit(example_outputs) if e["record"]]
    for expected in (("ana", "requested"), ("pat", "sent-back"), ("pat", "approved"), ("pat", "published")):
        assert expected in log


def test_a_draft_that_cannot_be_published_is_not_sent_for_approval(desk_server, example_outputs, team_links):
    data = json.loads((example_outputs / REL).read_text())
    data["panels"][0]["reviews"].pop()  # no founder review
    (example_outputs / REL).write_text(json.dumps(data, indent=2))
    desk = desk_server(example_outputs)
    ana = client(desk, team_links["ana"])
    refused = post(ana, "request")
    assert (
        refused.status_code == 422 and "cannot be published yet" in refused.text and "founder" in refused.text
    )
    assert WorkStore(example_outputs).awaiting() == []


def test_four_eyes_on_the_desk(desk_server, example_outputs, team_links):
    write_policy(example_outputs, four_eyes=True)
    desk = desk_server(example_outputs)
    pat, lee = client(desk, team_links["pat"]), client(desk, team_links["lee"])
    assert post(pat, "save", **VERDICT).status_code == 303
    assert "You cannot publish this draft" in pat.get(RECORD).text
    before = record_tree(example_outputs)
    refused = post(pat, "publish")
    assert refused.status_code == 422
    assert "four-eyes rule is on and pat changed Quillstack: reviews.builder.score" in refused.text
    assert record_tree(example_outputs) == before
    assert post(lee, "publish").status_code == 303
    assert (
        json.loads((example_outputs / "published/quillstack-vs-ledgerlight.json").read_text())["published_by"]
        == "lee"
    )


def test_blind_second_review(desk_server, example_outputs, team_links):
    write_policy(example_outputs, blind_review=True)
    desk = desk_server(example_outputs)
    ana, bo = client(desk, team_links["ana"]), client(desk, team_links["bo"])
    assert post(ana, "save", **VERDICT).status_code == 303
    blind = bo.get(RECORD).text
    assert "Someone has already reviewed this draft" in blind
    assert "verdict" not in re.sub(r"<p class=\"notice\">.*?</p>", "", blind, flags=re.S).replace(
        "verdicts", ""
    )
    shown = re.sub(r'name="csrf" value="[^"]*"', "", blind)  # a random token may hold any digits
    assert not re.search(r"\b(50|80|55|70|65)\b", shown)  # ana's score and the model's
    assert 'name="tools[0]' not in blind
    assert bo.get(RECORD + "/preview").status_code == 403
    csrf = re.search(r'name="csrf" value="([^"]+)"', blind).group(1)  # type: ignore[union-attr]
    names = re.findall(r'name="(blind\.\d\.[a-z]+)" value="ship"', blind)
    assert len(names) == 8
    incomplete = bo.post(RECORD + "/second-review", data={"csrf": csrf, names[0]: "ship"})
    assert incomplete.status_code == 422
    mine = {n: "ship" for n in names}  # bo ships everything; ana skipped Quillstack's builder
    assert bo.post(RECORD + "/second-review", data={"csrf": csrf, **mine}).status_code == 303
    page = bo.get(RECORD).text
    assert "Verdicts by reviewer" in page and "Save edits" in page
    assert re.search(r"ana and bo agree on \d of 8 verdicts", page)
    given = WorkStore(example_outputs).verdicts_for(REL)
    assert given["bo"]["Quillstack: builder"] == "ship" and given["ana"]["Quillstack: builder"] == "skip"
    entry = next(e for e in audit(example_outputs) if e["action"] == "second-review")
    assert entry["user"] == "bo" and entry["note"].startswith("agreed with ana on")


def test_the_audit_log_agrees_with_every_history_entry(desk_server, example_outputs, team_links, tmp_path):
    """Saves, a claim check, votes and a publication on the desk, and `panel edit` between them:
    each person's history entries, in every file, are the audit log's record changes, one for one."""
    desk = desk_server(example_outputs)
    ana, pat = client(desk, team_links["ana"]), client(desk, team_links["pat"])
    assert post(ana, "save", **{"tools[1].reviews.skeptic.review": TEXT}).status_code == 303
    assert post(ana, "votes", vote="1", **{"votes.1.ship": "12", "votes.1.skip": "3"}).status_code == 303
    script = tmp_path / "editor.py"
    script.write_text(f"import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.write_text({EDIT})\n")
    env = {"EDITOR": f"python3 {script}", "VISUAL": "", "USER": "cli-user"}
    assert (
        run_panel(
            "edit", str(example_outputs / REL), "--out", str(example_outputs), cwd=tmp_path, env=env
        ).returncode
        == 0
    )
    assert post(pat, "save", **VERDICT).status_code == 303
    assert post(pat, "publish").status_code == 303

    people = ("edited", "checked", "voted", "published")
    draft = {(c.by, c.action, c.at) for c in load_record(example_outputs / REL, Comparison).record.history}
    history = set()
    for path in [
        example_outputs / REL,
        *(example_outputs / "panels").glob("*.json"),
        *(example_outputs / "published").glob("*.json"),
    ]:
        rel = path.relative_to(example_outputs).as_posix()
        for change in load_record(path, Comparison if "vs" in path.name else ToolPanel).record.history:
            copied = rel.startswith("published/") and (change.by, change.action, change.at) in draft
            if change.action in people and not copied:  # a published copy repeats its draft's history
                history.add((rel, change.by, change.action, change.at.isoformat().replace("+00:00", "Z")))
    logged = [
        (e["record"], e["user"], e["action"], e["at"])
        for e in audit(example_outputs)
        if e["action"] in people
    ]
    assert len(logged) == len(set(logged))  # each once
    assert set(logged) == history
    assert {(e["user"], e["via"]) for e in audit(example_outputs) if e["action"] in people} == {
        ("ana", "desk"),
        ("cli-user", "cli"),
        ("pat", "desk"),
    }
