"""The review desk in a real browser: Debian's chromium driven by Playwright against a real
uvicorn server over a temp outputs folder. One browser per module, a fresh context per reviewer."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from panel.editorial.render import clean
from panel.grounding.material import material_for
from panel.records import Claim, Comparison, Evidence, ToolPanel
from panel.records.store import load_record, write_record
from panel.team.accounts import Accounts

from conftest import record_tree as tree
from conftest import run_panel
from factory import PARAGRAPH, panel, review, write_comparison, write_example_comparison
from pages import XSS

RECORD = "/r/comparisons~quillstack-vs-ledgerlight"
EDITED = (
    "Edited in the desk: the tool turns an API description into searchable pages and fails the "
    "build when an endpoint loses its description. That check is why a team would adopt it; the "
    "first hour shows it on one real service, and a weekend script would miss exactly that check."
)
OTHER = (
    "A second reviewer's text: the build check is the product, the pages are a side effect. A team "
    "that already writes descriptions gets little; a team that forgets them gets a failing build "
    "on the day it happens, which is the moment the habit forms. Worth a trial on one service."
)


def sign_in(browser: object, desk: object, token: str | None = None) -> object:
    """A new browser context (its own cookies) signed in with a sign-in link: the desk's single
    token (as the person running it) unless a personal `token` is given; dialogs are recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(f"{desk.url}/login?token={token or desk.token}")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{desk.url}/")
    return page


def comparison_on_disk(root: Path) -> Comparison:
    return load_record(root / "comparisons/quillstack-vs-ledgerlight.json", Comparison).record


def test_edit_a_score_and_a_paragraph_save_and_reload(
    browser, desk_server, example_outputs: Path, tmp_path: Path
):
    desk = desk_server(example_outputs, editor="ana")
    page = sign_in(browser, desk)
    page.click("text=Quillstack vs Ledgerlight")
    assert "revision 1" in page.inner_text(".meta")
    page.fill("[name='tools[0].reviews.builder.score']", "85")
    page.fill("[name='tools[1].reviews.skeptic.review']", EDITED)
    page.click("button.primary >> nth=0")
    assert "Saved." in page.inner_text("[role=status]")

    page.reload()
    assert page.input_value("[name='tools[0].reviews.builder.score']") == "85"
    assert page.input_value("[name='tools[1].reviews.skeptic.review']") == EDITED
    assert "revision 2" in page.inner_text(".meta")
    history = page.inner_text(".history")
    assert "ana" in history and "Ledgerlight: reviews.skeptic.review" in history
    # The word diff against the model's draft marks the new words, escaped, as <ins>.
    assert "Edited in the desk" in page.inner_text(".review.editor >> nth=3 >> .draft ins >> nth=0")

    record = comparison_on_disk(example_outputs)
    assert record.revision == 2 and record.history[-1].by == "ana"
    assert record.panels[0].review_for("builder").score == 85
    assert record.panels[1].review_for("skeptic").original.review == PARAGRAPH
    panel_file = load_record(example_outputs / "panels/ledgerlight.json", ToolPanel).record
    assert panel_file.review_for("skeptic").review == EDITED and panel_file.revision == 2
    checked = run_panel(
        "validate", str(example_outputs / "comparisons/quillstack-vs-ledgerlight.json"), cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    page.context.close()


def test_a_problem_shows_beside_its_field_and_nothing_is_written(browser, desk_server, example_outputs: Path):
    desk = desk_server(example_outputs, editor="ana")
    before = tree(example_outputs)
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    page.select_option("[name='tools[0].reviews.builder.verdict']", "skip")  # score 80
    page.fill("[name='tools[1].reviews.founder.review']", "Too short to be a review.")
    page.fill("[name='tools[1].reviews.skeptic.review']", EDITED)
    page.click("button.primary >> nth=0")
    assert "Not saved" in page.inner_text("[role=alert] >> nth=0")
    builder = page.locator(".review.editor", has=page.locator("[name='tools[0].reviews.builder.verdict']"))
    assert "disagrees with score 80" in builder.locator(".field-problem").inner_text()
    assert builder.locator("[aria-invalid=true]").count() == 1
    founder = page.locator(".review.editor", has=page.locator("[name='tools[1].reviews.founder.review']"))
    assert "at least 200 characters" in founder.locator(".field-problem").inner_text()
    # What was typed stays in the form; nothing reached the disk.
    assert page.input_value("[name='tools[1].reviews.skeptic.review']") == EDITED
    assert page.input_value("[name='tools[1].reviews.founder.review']") == "Too short to be a review."
    assert tree(example_outputs) == before
    page.context.close()


def test_second_reviewer_is_refused_and_keeps_their_text(browser, desk_server, example_outputs: Path):
    accounts = Accounts(example_outputs)
    tokens = {name: accounts.add(name, "reviewer", "test").token for name in ("ana", "bo")}
    desk = desk_server(example_outputs)
    ana, bo = sign_in(browser, desk, tokens["ana"]), sign_in(browser, desk, tokens["bo"])
    for page in (ana, bo):
        page.goto(desk.url + RECORD)
    ana.fill("[name='tools[0].reviews.futurist.review']", EDITED)
    ana.fill("[name='tools[1].reviews.builder.score']", "42")  # a field bo does not touch
    ana.click("button.primary >> nth=0")
    assert "Saved." in ana.inner_text("[role=status]")

    bo.fill("[name='tools[0].reviews.futurist.review']", OTHER)
    bo.click("button.primary >> nth=0")
    assert "Not saved: this record changed since you opened it" in bo.inner_text("[role=alert]")
    assert bo.input_value("[name='tools[0].reviews.futurist.review']") == OTHER  # nothing typed is lost
    assert "ana edited" in bo.inner_text(".conflict")
    cell = bo.locator(".review.editor", has=bo.locator("[name='tools[0].reviews.futurist.review']"))
    assert "changed by ana" in cell.locator(".theirs").inner_text()
    assert bo.input_value("[name='tools[1].reviews.builder.score']") == "42"  # ana's, taken over
    on_disk = comparison_on_disk(example_outputs)
    assert on_disk.panels[0].review_for("futurist").review == EDITED and on_disk.revision == 2

    # Having seen ana's change, bo saves again: now on top of ana's version, nothing of ana's lost.
    bo.click("button.primary >> nth=0")
    assert "Saved." in bo.inner_text("[role=status]")
    on_disk = comparison_on_disk(example_outputs)
    assert on_disk.panels[0].review_for("futurist").review == OTHER
    assert on_disk.panels[1].review_for("builder").score == 42 and on_disk.revision == 3
    for page in (ana, bo):
        page.context.close()


def test_an_edit_made_with_panel_edit_meanwhile_is_detected(
    browser, desk_server, example_outputs: Path, tmp_path: Path
):
    desk = desk_server(example_outputs, editor="ana")
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('score: 55', 'score: 52', 1))\n"
    )
    target = example_outputs / "comparisons/quillstack-vs-ledgerlight.json"
    env = {"EDITOR": f"{sys.executable} {script}", "VISUAL": "", "USER": "cli-user"}
    edited = run_panel("edit", str(target), "--out", str(example_outputs), cwd=tmp_path, env=env)
    assert edited.returncode == 0, edited.stderr
    page.fill("[name='tools[0].reviews.founder.review']", EDITED)
    page.click("button.primary >> nth=0")
    assert "Not saved" in page.inner_text("[role=alert]")
    assert "cli-user edited" in page.inner_text(".conflict")
    assert page.input_value("[name='tools[0].reviews.founder.review']") == EDITED
    assert page.input_value("[name='tools[0].reviews.skeptic.score']") == "52"  # the CLI's edit, shown
    assert comparison_on_disk(example_outputs).panels[0].review_for("skeptic").score == 52
    page.context.close()


def test_publish_from_the_desk_writes_what_panel_publish_writes(browser, desk_server, tmp_path: Path):
    desk_root, cli_root = tmp_path / "desk/outputs", tmp_path / "cli/outputs"
    for root in (desk_root, cli_root):
        write_example_comparison(root)
    desk = desk_server(desk_root, editor="cam")
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    preview = page.context.request.get(desk.url + RECORD + "/preview").body()
    page.click("button:has-text('Publish')")
    assert "Published." in page.inner_text("[role=status]")
    cli = run_panel(
        "publish",
        str(cli_root / "comparisons/quillstack-vs-ledgerlight.json"),
        "--out",
        str(cli_root),
        cwd=tmp_path,
        env={"USER": "cam"},
    )
    assert cli.returncode == 0, cli.stderr
    desk_files = {k: v for k, v in tree(desk_root).items() if k.startswith("published/")}
    cli_files = {k: v for k, v in tree(cli_root).items() if k.startswith("published/")}
    assert (
        sorted(desk_files)
        == sorted(cli_files)
        == [f"published/quillstack-vs-ledgerlight.{ext}" for ext in ("html", "json", "md")]
    )
    for name in ("published/quillstack-vs-ledgerlight.html", "published/quillstack-vs-ledgerlight.md"):
        assert desk_files[name] == cli_files[name]
    assert preview == desk_files["published/quillstack-vs-ledgerlight.html"]  # the preview is exact
    page.goto(desk.url + RECORD + "/preview")  # and its inline stylesheet is allowed, by hash
    assert page.eval_on_selector(".card", "e => getComputedStyle(e).borderTopLeftRadius") == "12px"
    page.goto(desk.url + RECORD)

    def content(data: bytes) -> dict:
        record = json.loads(data)
        for key in ("published_at", "checksum"):
            record.pop(key)
        record["history"] = [{k: v for k, v in c.items() if k != "at"} for c in record["history"]]
        return record

    name = "published/quillstack-vs-ledgerlight.json"
    assert content(desk_files[name]) == content(cli_files[name])
    assert json.loads(desk_files[name])["published_by"] == "cam"
    assert "published" in page.inner_text(".meta")  # the draft now matches its published copy
    page.context.close()


def test_publish_refusals_are_the_cli_refusals(browser, desk_server, tmp_path: Path):
    roots = [tmp_path / "desk/outputs", tmp_path / "cli/outputs"]
    for root in roots:
        path = write_example_comparison(root)
        data = json.loads(path.read_text())
        data["panels"][0]["reviews"].pop()  # no founder review: publishing must refuse
        path.write_text(json.dumps(data, indent=2))
    desk = desk_server(roots[0], editor="cam")
    before = tree(roots[0])
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    page.click("button:has-text('Publish')")
    shown = page.inner_text("[role=alert]")
    cli = run_panel("publish", str(roots[1] / "comparisons/quillstack-vs-ledgerlight.json"), cwd=tmp_path)
    assert cli.returncode == 2
    expected = (
        cli.stderr.strip().removeprefix("panel: error: ").replace(str(roots[1]), str(roots[0].resolve()))
    )
    assert shown == expected and "no review by founder" in shown
    assert tree(roots[0]) == before
    page.context.close()


def test_claims_show_their_status_and_a_check_keeps_unsaved_text(browser, desk_server, tmp_path: Path):
    root = tmp_path / "outputs"
    a, b = panel("Quillstack"), panel("Ledgerlight", (40, 45, 62, 30))
    sentence = material_for(a.tool).sentences[0]
    text = PARAGRAPH.replace("a single binary", "a single binary under the GPL-3.0 license")
    claims = [
        Claim(
            text="under the GPL-3.0 license",
            kind="license",
            status="contradicted",
            evidence=Evidence(id=sentence.id, sentence=sentence.text, source=sentence.source),
            origin="model",
        ),
        Claim(text="runs in the build", kind="feature", status="unsupported", origin="model"),
    ]
    builder = review("builder", 80, text=text).model_copy(update={"claims": claims})
    a = a.model_copy(update={"reviews": [builder, *a.reviews[1:]]})
    write_comparison(root, a, b)
    desk = desk_server(root, editor="ana")
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    cell = page.locator(".review.editor", has=page.locator("[name='tools[0].reviews.builder.review']"))
    assert cell.locator(".claim.is-contradicted q").inner_text() == "under the GPL-3.0 license"
    assert clean(sentence.text)[:40] in cell.locator(".claim.is-contradicted .evidence").inner_text()
    assert "1 contradicted" in cell.locator(".claims summary").inner_text()

    page.fill("[name='tools[1].reviews.skeptic.review']", EDITED)  # unsaved
    cell.locator(".claim.is-contradicted input").fill("Vendor confirmed the license by email")
    cell.locator(".claim.is-contradicted button").click()
    assert "Claim marked as checked" in page.inner_text("[role=status]")
    assert page.input_value("[name='tools[1].reviews.skeptic.review']") == EDITED
    cell = page.locator(".review.editor", has=page.locator("[name='tools[0].reviews.builder.review']"))
    assert "Checked by ana" in cell.locator(".claim.is-contradicted .checked").inner_text()
    record = comparison_on_disk(root)
    [mark] = [c.checked for c in record.panels[0].review_for("builder").claims if c.text == claims[0].text]
    assert mark.by == "ana" and mark.note == "Vendor confirmed the license by email"
    assert record.history[-1].action == "checked"
    assert record.panels[1].review_for("skeptic").review == PARAGRAPH  # the edit was not saved
    page.click("button.primary >> nth=0")  # saving now works: the form carries the new version
    assert "Saved." in page.inner_text("[role=status]")
    page.context.close()


def test_community_votes_beside_the_verdict_never_change_the_decision(
    browser, desk_server, example_outputs: Path
):
    desk = desk_server(example_outputs, editor="ana")
    page = sign_in(browser, desk)
    page.goto(desk.url + RECORD)
    decision = page.inner_text(".decision-line")
    page.fill("[name='votes.1.ship']", "120")
    page.fill("[name='votes.1.skip']", "4")
    page.click("button[name=vote][value='1']")
    assert "Community votes saved" in page.inner_text("[role=status]")
    assert "120 ship / 4 skip" in page.inner_text(".votes")
    assert page.inner_text(".decision-line") == decision  # Quillstack still wins on the panel
    record = comparison_on_disk(example_outputs)
    assert (record.community["Ledgerlight"].ship, record.community["Ledgerlight"].skip) == (120, 4)
    page.context.close()


def test_hostile_text_stays_text_in_the_desk(browser, desk_server, tmp_path: Path):
    """The XSS corpus from test_render in tool fields and reviews: every page shows it as text, no
    dialog opens and the title stays ours."""
    root = tmp_path / "outputs"
    for i, payload in enumerate(XSS):
        name = f"{i}{payload.strip()}"[:200].strip()
        text = (payload + " " + "padding " * 40)[:1600]
        hostile = panel(name, (61, 40, 70, 20), tagline=payload[:200], description=payload[:6000] or "x")
        hostile = hostile.model_copy(
            update={"reviews": [review(r.persona, r.score, text=text) for r in hostile.reviews]}
        )
        write_comparison(root, panel(f"Plain {i}"), hostile)
    desk = desk_server(root, editor=(payload_name := XSS[1][:80]))
    page = sign_in(browser, desk)
    assert page.locator("script, img, iframe, svg, math").count() == 0
    assert page.inner_text(".who") == f"Signed in as {clean(' '.join(payload_name.split()))}"
    page.goto(desk.url + "/?kind=comparison")
    links = page.locator("table.queue a")
    assert links.count() == len(XSS)
    assert page.locator("script, img, iframe, svg, math").count() == 0
    urls = {
        int(re.match(r"Plain (\d+) vs", links.nth(k).inner_text()).group(1)): links.nth(k).get_attribute(
            "href"
        )
        for k in range(links.count())
    }
    assert sorted(urls) == list(range(len(XSS)))
    for i, url in sorted(urls.items()):
        page.goto(desk.url + url)
        title = page.locator("h1").inner_text()
        assert page.title() == f"{title} · panel desk"
        assert (
            page.locator("script, img, iframe, svg, math, object, embed, base, link[href*=evil]").count() == 0
        )
        assert page.locator("[onload], [onerror], [onmouseover], [style]").count() == 0
        description = page.locator("article.card >> nth=1 >> .description").text_content()
        assert description == clean(XSS[i][:6000] or "x")
        shown = page.input_value("[name='tools[1].reviews.builder.review']")
        assert shown == clean((XSS[i] + " " + "padding " * 40)[:1600])
    # A payload typed into the form comes back as text too, with the word diff.
    page.fill("[name='tools[1].reviews.builder.score']", "20")  # verdict stays ship: a problem page
    page.fill("[name='tools[1].reviews.founder.review']", XSS[0] + " " + "padding " * 30)
    page.click("button.primary >> nth=0")
    assert XSS[0] in page.locator(".review.editor >> nth=7 >> .draft ins >> nth=0").text_content()
    page.goto(desk.url + url + "/preview")
    assert page.locator("script, img, iframe").count() == 0
    assert page.dialogs == []
    page.context.close()


def test_path_traversal_in_a_record_url_is_not_found(browser, desk_server, example_outputs: Path):
    desk = desk_server(example_outputs, editor="ana")
    page = sign_in(browser, desk)
    for bad in (
        "/r/..%2f..%2fetc%2fpasswd",
        "/r/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/r/comparisons~..~..~etc~passwd",
    ):
        response = page.goto(desk.url + bad)
        assert response.status == 404 and "root:" not in page.content()
    page.context.close()


def test_a_record_written_after_start_up_is_listed_and_opens(browser, desk_server, example_outputs: Path):
    """Record ids are stable names from the index: a record another command writes while the
    desk runs shows up in the queue and opens by its id."""
    desk = desk_server(example_outputs, editor="ana")
    page = sign_in(browser, desk)
    write_record(example_outputs / "panels/mosswick.json", panel("Mosswick"))
    page.goto(desk.url + "/?q=mossw")
    assert page.locator("table.queue a").all_inner_texts() == ["Mosswick"]
    page.click("text=Mosswick")
    assert page.locator("h1").inner_text() == "Mosswick"
    assert page.url.endswith("/r/panels~mosswick")
    page.context.close()


def test_pages_need_the_login_and_a_wrong_token_is_turned_away(browser, desk_server, example_outputs: Path):
    desk = desk_server(example_outputs)
    context = browser.new_context()
    page = context.new_page()
    page.goto(desk.url + RECORD)
    assert page.url == desk.url + "/login"  # a browser asking for a page is sent to the login
    page.fill("input[name=token]", "not-the-desk-token-at-all")
    page.click("button:has-text('Sign in')")
    assert "wrong token" in page.inner_text("[role=alert]")
    assert context.cookies() == []
    page.goto(f"{desk.url}/login?token={desk.token}")
    page.click("button:has-text('Sign in')")
    page.goto(desk.url + RECORD)
    assert page.locator("h1").inner_text() == "Quillstack vs Ledgerlight"
    [cookie] = context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    context.close()
