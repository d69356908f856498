"""`panel edit`, `panel validate`, `panel diff` and `panel publish` on records without a model."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from panel.editorial.editing import EditProblems, apply_fields, apply_view, view
from panel.editorial.publishing import publish
from panel.editorial.saving import save_check, save_edit
from panel.editorial.validate import validate_file
from panel.errors import InputError
from panel.inputs.personas import load_personas
from panel.records import Claim, Comparison, ToolPanel, panels_of
from panel.records.store import Outputs, file_version, load_record, write_record

from conftest import run_panel, tree
from factory import panel, write_comparison, write_example_comparison

NEW_TEXT = (
    "Edited by a reviewer: the tool renders reference pages from an API description and fails the "
    "build when an endpoint has no description. That check is the reason to adopt it, and the "
    "first hour shows it working on a real service. The weekend alternative misses the check."
)


def scripted_editor(tmp_path: Path, *steps: str) -> dict:
    """An $EDITOR that applies the next step each time it is opened (a Python snippet that gets
    the view as `text` and sets `text`), so tests can drive the edit loop like a person."""
    script = tmp_path / "editor.py"
    state = tmp_path / "editor-state"
    state.write_text("0")
    snippets = [textwrap.dedent(s) for s in steps]
    script.write_text(
        "import sys, pathlib, re\n"
        f"steps = {snippets!r}\n"
        f"state = pathlib.Path({str(state)!r})\n"
        "n = int(state.read_text()); state.write_text(str(n + 1))\n"
        "path = pathlib.Path(sys.argv[1]); text = path.read_text()\n"
        f"pathlib.Path({str(tmp_path / 'seen')!r} + str(n)).write_text(text)\n"
        "exec(steps[n])\n"
        "path.write_text(text)\n"
    )
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": "", "USER": "ana"}


@pytest.fixture
def comparison(tmp_path: Path) -> Path:
    return write_example_comparison(tmp_path / "outputs")


def test_edit_with_an_invalid_verdict_reopens_with_the_error_then_saves(tmp_path: Path, comparison: Path):
    env = scripted_editor(
        tmp_path,
        # First save: the Builder (score 80) says skip, which contradicts the score.
        "text = text.replace('score: 80\\n      verdict: ship', 'score: 80\\n      verdict: skip', 1)",
        # Second save: fix the verdict by lowering the score instead, and edit the text.
        "text = text.replace('score: 80\\n      verdict: skip', 'score: 50\\n      verdict: skip', 1)",
    )
    result = run_panel("edit", str(comparison), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    reopened = (tmp_path / "seen1").read_text()
    assert reopened.startswith("# ERROR: tools[0].reviews.builder.verdict: 'skip' disagrees with score 80")
    record = load_record(comparison, Comparison)
    assert not record.edited  # written by panel, with a fresh checksum
    builder = record.record.panels[0].review_for("builder")
    assert (builder.score, builder.verdict, builder.original.score) == (50, "skip", 80)
    change = record.record.history[-1]
    assert change.by == "ana" and change.action == "edited"
    assert change.fields == ["Quillstack: reviews.builder.score", "Quillstack: reviews.builder.verdict"]
    # The tool's panel file, which later comparisons are built from, has the edit too.
    panel_file = load_record(tmp_path / "outputs/panels/quillstack.json", ToolPanel).record
    assert panel_file.review_for("builder").score == 50 and panel_file.history[-1].by == "ana"


@pytest.mark.parametrize("step", ["pass", "text = ''"])
def test_quitting_without_saving_or_emptying_changes_nothing(tmp_path: Path, comparison: Path, step: str):
    before = tree(tmp_path / "outputs")
    result = run_panel("edit", str(comparison), cwd=tmp_path, env=scripted_editor(tmp_path, step))
    assert result.returncode == 0 and "No changes" in result.stdout
    assert tree(tmp_path / "outputs") == before


def test_edit_review_text_and_tool_field(tmp_path: Path, comparison: Path):
    step = f"""
import yaml
head = ''.join(l + '\\n' for l in text.splitlines() if l.startswith('#'))
data = yaml.safe_load(text)
data['tools'][1]['reviews']['skeptic']['review'] = {NEW_TEXT!r}
data['tools'][1]['tagline'] = 'Fixed by an editor'
text = head + yaml.safe_dump(data, sort_keys=False)
"""
    result = run_panel(
        "edit", str(comparison), "--editor", "bo", cwd=tmp_path, env=scripted_editor(tmp_path, step)
    )
    assert result.returncode == 0, result.stderr
    ledger = load_record(comparison, Comparison).record.panels[1]
    assert ledger.review_for("skeptic").review == NEW_TEXT and ledger.review_for("skeptic").edited
    assert ledger.tool.tagline == "Fixed by an editor"
    assert sorted(ledger.history[-1].fields) == ["reviews.skeptic.review", "tool.tagline"]
    assert ledger.history[-1].by == "bo"
    shown = run_panel("diff", str(comparison), cwd=tmp_path)
    assert shown.returncode == 0
    assert "Ledgerlight: 1 of 4 reviews changed" in shown.stdout and "Quillstack: 0 of 4" in shown.stdout
    assert "+Edited by a reviewer" in shown.stdout and "bo edited" in shown.stdout


def test_validate_reports_paths_and_hints(tmp_path: Path, comparison: Path):
    assert run_panel("validate", str(comparison), cwd=tmp_path).returncode == 0
    data = json.loads(comparison.read_text())
    data["panels"][0]["reviews"][1]["score"] = 150
    data["panels"][1]["reviews"][0]["verdict"] = "maybe"
    data["panels"][1]["bogus"] = 1
    comparison.write_text(json.dumps(data, indent=2))
    result = run_panel("validate", str(comparison), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert (
        f"{comparison}: $.panels[0].reviews[1].score: 150 is greater than the maximum of 100 "
        in result.stdout
    )
    assert "(scores are whole numbers from 0 to 100)" in result.stdout
    assert any(
        "$.panels[1].reviews[0].verdict" in line and "use one of: ship, skip" in line for line in lines
    )
    assert any("$.panels[1]" in line and "bogus" in line for line in lines)


def test_validate_checks_the_rules_beyond_the_schema(tmp_path: Path, comparison: Path):
    data = json.loads(comparison.read_text())
    data["panels"][0]["reviews"][0]["verdict"] = "skip"  # score 80
    data["panels"][1]["summary"]["ship"] = 4
    data["decision"]["winner"] = "Ledgerlight"
    comparison.write_text(json.dumps(data, indent=2))
    result = run_panel("validate", str(comparison), cwd=tmp_path)
    assert result.returncode == 2
    assert "$.panels[0].reviews[0].verdict: 'skip' disagrees with score 80" in result.stdout
    assert "$.panels[1].summary.ship: the file says 4, the reviews give 1" in result.stdout
    assert '$.decision.winner: the file says "Ledgerlight", the reviews give "Quillstack"' in result.stdout


def test_validate_broken_and_foreign_files(tmp_path: Path):
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "other.json").write_text('{"kind": "invoice"}')
    result = run_panel("validate", "broken.json", "other.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "broken.json: line 1 column 2: invalid JSON" in result.stdout
    assert "other.json: $.kind: unknown record kind 'invoice'" in result.stdout


def test_publish_writes_the_record_and_pages_and_revisions(tmp_path: Path, comparison: Path):
    env = {"USER": "cam"}
    result = run_panel("publish", str(comparison), "--out", str(tmp_path / "outputs"), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "outputs/published/quillstack-vs-ledgerlight.json"
    published = load_record(target, Comparison).record
    assert published.status == "published" and published.revision == 1 and published.published_by == "cam"
    assert published.history[-1].action == "published"
    assert target.with_suffix(".html").read_text().count('class="verdict') >= 8
    assert "Quillstack vs Ledgerlight" in target.with_suffix(".md").read_text()
    assert load_record(comparison, Comparison).record.status == "draft"  # the draft stays a draft

    again = run_panel("publish", str(comparison), "--out", str(tmp_path / "outputs"), cwd=tmp_path, env=env)
    assert again.returncode == 0 and "Already published as revision 1" in again.stdout

    # Edit by hand, publish again: revision 2, revision 1 kept, the hand edit in the history.
    data = json.loads(comparison.read_text())
    data["panels"][0]["reviews"][2]["review"] = NEW_TEXT
    comparison.write_text(json.dumps(data, indent=2))
    third = run_panel("publish", str(comparison), "--out", str(tmp_path / "outputs"), cwd=tmp_path, env=env)
    assert third.returncode == 0, third.stderr
    published = load_record(target, Comparison).record
    assert published.revision == 2
    assert published.panels[0].review_for("futurist").review == NEW_TEXT
    hand = [c for c in published.history if c.action == "edited"]
    assert hand and hand[-1].fields == ["Quillstack: reviews.futurist.review"] and hand[-1].by == "cam"
    old = load_record(tmp_path / "outputs/published/revisions/quillstack-vs-ledgerlight.r1.json", Comparison)
    assert old.record.revision == 1 and not old.edited

    # A published record itself never changes.
    refused = run_panel("edit", str(target), cwd=tmp_path, env=scripted_editor(tmp_path, "pass"))
    assert refused.returncode == 2 and "published records never change" in refused.stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["panels"][0]["reviews"][0].update(verdict="skip"), "disagrees with score 80"),
        (lambda d: d["panels"][0]["reviews"].pop(), "no review by founder"),
        (
            lambda d: d["panels"][1]["failures"].append({"persona": "creator", "reason": "HTTP 500"}),
            "the creator review failed (HTTP 500)",
        ),
        (lambda d: d["panels"][0]["reviews"][0].update(score=150), "150 is greater than the maximum of 100"),
    ],
)
def test_publish_refuses_bad_drafts_and_writes_nothing(tmp_path: Path, comparison: Path, change, reason: str):
    data = json.loads(comparison.read_text())
    change(data)
    comparison.write_text(json.dumps(data, indent=2))
    before = tree(tmp_path / "outputs")
    result = run_panel("publish", str(comparison), "--out", str(tmp_path / "outputs"), cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot publish" in result.stderr and reason in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert tree(tmp_path / "outputs") == before


def test_stats_command_on_twenty_panels(tmp_path: Path):
    outputs = tmp_path / "outputs"
    for i in range(22):
        scores = (90, 40 + i, 75 if i % 3 else 30, 50 + (i % 5) * 5)
        write_record(outputs / "panels" / f"t{i:02d}.json", panel(f"Tool {i:02d}", scores))
    result = run_panel("stats", str(outputs), "--html", str(tmp_path / "report.html"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Builder" in result.stdout and "100%" in result.stdout  # the Builder ships all 22 tools
    assert "Builder ships 22 of 22 tools (100%)" in result.stdout  # the rubber-stamp warning
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
    missing = run_panel("stats", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 2 and "not a folder" in missing.stderr


def test_edit_bumps_the_revision_and_saves_through_compare_and_swap(tmp_path: Path, comparison: Path):
    step = "text = text.replace('score: 80\\n      verdict: ship', 'score: 90\\n      verdict: ship', 1)"
    result = run_panel("edit", str(comparison), cwd=tmp_path, env=scripted_editor(tmp_path, step))
    assert result.returncode == 0, result.stderr
    record = load_record(comparison, Comparison).record
    assert record.revision == 2 and record.history[-1].fields == ["Quillstack: reviews.builder.score"]
    panel_file = load_record(tmp_path / "outputs/panels/quillstack.json", ToolPanel).record
    assert panel_file.revision == 2 and panel_file.review_for("builder").score == 90


def test_edit_refused_when_the_record_changed_while_the_editor_was_open(tmp_path: Path, comparison: Path):
    """Someone (the desk, another reviewer) saves while `panel edit` is open: the edit is refused,
    the other save stays, and the text typed in the editor is kept in a file whose path is printed."""
    step = f"""
import json
data = json.loads(pathlib.Path({str(comparison)!r}).read_text())
data['panels'][1]['reviews'][0]['review'] = {NEW_TEXT!r}
pathlib.Path({str(comparison)!r}).write_text(json.dumps(data, indent=2))
text = text.replace('score: 80\\n      verdict: ship', 'score: 91\\n      verdict: ship', 1)
"""
    result = run_panel("edit", str(comparison), cwd=tmp_path, env=scripted_editor(tmp_path, step))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "changed on disk" in line and "nothing was written" in line
    kept = Path(re.search(r"kept in (\S+\.yaml)", line).group(1))
    assert "score: 91" in kept.read_text()
    kept.unlink()
    data = json.loads(comparison.read_text())
    assert data["panels"][1]["reviews"][0]["review"] == NEW_TEXT  # the other save is intact
    assert data["panels"][0]["reviews"][0]["score"] == 80 and data["revision"] == 1


def test_apply_fields_keys_each_problem_by_its_field(comparison: Path):
    record = load_record(comparison, Comparison).record
    with pytest.raises(EditProblems) as caught:
        apply_fields(
            record,
            {
                "Quillstack": {"builder": {"score": "80", "verdict": "skip"}, "skeptic": {"score": "lots"}},
                "Ledgerlight": {"founder": {"review": "too short"}},
            },
        )
    problems = caught.value.problems
    assert set(problems) == {
        "tools[0].reviews.builder.verdict",
        "tools[0].reviews.skeptic.score",
        "tools[1].reviews.founder.review",
    }
    assert "disagrees with score 80" in problems["tools[0].reviews.builder.verdict"]
    applied = apply_fields(record, {"Ledgerlight": {"skeptic": {"score": " 61 ", "verdict": "ship"}}})
    assert applied.changed == {
        "Quillstack": [],
        "Ledgerlight": ["reviews.skeptic.score", "reviews.skeptic.verdict"],
    }
    assert applied.record.panels[1].review_for("skeptic").score == 61
    crlf = apply_fields(record, {"Quillstack": {"builder": {"review": NEW_TEXT.replace(" ", "\r\n", 3)}}})
    assert "\r" not in crlf.record.panels[0].review_for("builder").review


GPL_TEXT = (
    "The license is the first question: a GPL-3.0 tool inside every build worries legal teams, and "
    "at $30 per seat it costs more than the docs site it replaces. Mintlify and ReadMe "
    "already do this, and the scenario where it breaks is a codebase without type hints."
)


def test_edit_shows_claims_under_each_review_and_marks_them_checked(tmp_path: Path):
    quill = panel(
        "Quillstack",
        description="Quillstack builds reference docs from type hints. It is free and MIT licensed.",
    )
    path = tmp_path / "outputs" / "panels" / "quillstack.json"
    write_record(path, quill)
    data = json.loads(path.read_text())
    data["reviews"][1]["review"] = GPL_TEXT  # by hand: a wrong license, a price, two names
    path.write_text(json.dumps(data, indent=2))
    step = """
block = text[text.index('skeptic:'):]
number = next(line.split('.')[0].split()[-1] for line in block.splitlines() if "'GPL-3.0'" in line)
text = text.replace('check: []', 'check: [' + number + ']', 2)
text = text.replace("check_note: ''", "check_note: relicensed last week, per the repository", 2)
"""
    env = scripted_editor(tmp_path, step)
    refused = run_panel("publish", str(path), cwd=tmp_path, env=env)
    assert (
        refused.returncode == 2
        and "'GPL-3.0' (license)" in refused.stderr
        and "'$30 per seat'" in refused.stderr
    )
    result = run_panel("edit", str(path), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    seen = (tmp_path / "seen0").read_text()
    assert "# Claims, checked against the material" in seen
    assert "contradicted license: 'GPL-3.0' (the material: 'It is free and MIT licensed.'" in seen
    skeptic = load_record(path, ToolPanel).record.reviews[1]
    gpl = next(c for c in skeptic.claims if c.text == "GPL-3.0")
    assert gpl.checked is not None and gpl.checked.by == "ana" and "relicensed" in gpl.checked.note
    still = run_panel("publish", str(path), cwd=tmp_path, env=env)  # the price is still open
    assert still.returncode == 2 and "'$30 per seat'" in still.stderr and "'GPL-3.0'" not in still.stderr
    diff = run_panel("diff", str(path), cwd=tmp_path, env=env)
    assert "claim appeared: 'GPL-3.0' (license, contradicted)" in diff.stdout


def _gpl_comparison(root: Path) -> tuple[Path, Comparison]:
    """A comparison whose Quillstack skeptic review makes a contradicted license claim, as shown
    (claims recomputed)."""
    from panel.editorial.validate import valid_record

    quill = panel(
        "Quillstack",
        description="Quillstack builds reference docs from type hints. It is free and MIT licensed.",
    )
    quill = quill.model_copy(
        update={
            "reviews": [
                quill.reviews[0],
                quill.reviews[1].model_copy(update={"review": GPL_TEXT}),
                *quill.reviews[2:],
            ]
        }
    )
    path = write_comparison(root, quill, panel("Ledgerlight", (40, 45, 62, 30)))
    return path, valid_record(path, load_personas())


def test_every_door_marks_a_claim_checked_the_same_way(tmp_path: Path):
    """`panel claims --check` and the desk (save_check) and the `check` list of `panel edit`
    (save_edit) go through one function, saving.mark_checked: the same mark, the same history
    entry, in the comparison and in the tool's panel file."""
    personas = load_personas()
    entries = []
    for door in ("check", "edit"):
        root = tmp_path / door / "outputs"
        path, record = _gpl_comparison(root)
        outputs = Outputs(root)
        if door == "check":
            claim = ("Quillstack", "skeptic", "GPL-3.0")
            save_check(path, record, file_version(path), claim, "ana", " relicensed ", outputs, personas)
        else:
            skeptic = record.panels[0].review_for("skeptic")
            number = [c.text for c in skeptic.claims].index("GPL-3.0") + 1
            text = view(record, path).replace("check: []", f"check: [{number}]", 1)
            text = text.replace("check_note: ''", "check_note: 'relicensed '", 1)
            applied = apply_view(record, text, "ana")
            assert applied.changed == {"Quillstack": [], "Ledgerlight": []}  # a mark is no field edit
            save_edit(path, applied, "ana", outputs, file_version(path), personas)
        for saved in (
            load_record(path, Comparison).record,
            load_record(outputs.panel_path("Quillstack"), ToolPanel).record,
        ):
            mark = _claim(saved, "GPL-3.0").checked
            change = saved.history[-1]
            assert mark is not None and (mark.by, mark.note) == ("ana", "relicensed")
            assert change.at == mark.at
            entries.append((change.action, change.by, change.fields, change.note, change.previous))
    expected = ("checked", "ana", ["Quillstack: reviews.skeptic.claims"], "GPL-3.0: relicensed", {})
    assert entries == [expected] * 4  # two doors, each writing the comparison and the panel file


def test_a_mark_and_an_edit_in_one_save_keep_both_entries(tmp_path: Path):
    """`panel edit` that changes the Skeptic's score and checks one of its claims: the edit's
    history entry, then the mark's, in the comparison and in the tool's panel file."""
    path, record = _gpl_comparison(tmp_path / "outputs")
    outputs = Outputs(tmp_path / "outputs")
    skeptic = panels_of(record)[0].review_for("skeptic")
    assert skeptic is not None
    number = [c.text for c in skeptic.claims].index("GPL-3.0") + 1
    text = view(record, path).replace("check: []", f"check: [{number}]", 1)
    text = text.replace("score: 55\n      verdict: skip", "score: 58\n      verdict: skip", 1)
    save_edit(path, apply_view(record, text, "bo"), "bo", outputs, file_version(path), load_personas())
    comparison = load_record(path, Comparison).record
    panel_file = load_record(outputs.panel_path("Quillstack"), ToolPanel).record
    for saved, field in (
        (comparison, "Quillstack: reviews.skeptic.score"),
        (panel_file, "reviews.skeptic.score"),
    ):
        edited, checked = saved.history[-2:]
        assert (edited.action, edited.fields, checked.action) == ("edited", [field], "checked")
        assert panels_of(saved)[0].review_for("skeptic").score == 58
        mark = _claim(saved, "GPL-3.0").checked
        assert mark is not None and mark.by == "bo"


def _claim(record: ToolPanel | Comparison, text: str) -> Claim:
    review = panels_of(record)[0].review_for("skeptic")
    assert review is not None
    return next(c for c in review.claims if c.text == text)


def test_a_check_names_who_checked_and_keeps_the_note_to_its_limit(tmp_path: Path):
    """No mark without a name (nobody is "unknown"), and a note over the limit is refused before
    anything is written: in `panel edit`, the view opens again with the problem."""
    path, record = _gpl_comparison(tmp_path / "outputs")
    before = tree(tmp_path / "outputs")
    claim = ("Quillstack", "skeptic", "GPL-3.0")
    with pytest.raises(InputError, match="by: String should have at least 1 character"):
        save_check(path, record, file_version(path), claim, "", "", Outputs(tmp_path / "outputs"))
    with pytest.raises(InputError, match="note: String should have at most 2000 characters"):
        save_check(path, record, file_version(path), claim, "ana", "x" * 2001, Outputs(tmp_path / "outputs"))
    assert tree(tmp_path / "outputs") == before
    text = (
        view(record, path)
        .replace("check: []", "check: [1]", 1)
        .replace("check_note: ''", f"check_note: {'x' * 2001}", 1)
    )
    with pytest.raises(EditProblems) as refused:
        apply_view(record, text, "ana")
    assert list(refused.value.problems) == ["tools[0].reviews.skeptic.check_note"]


def test_apply_view_raises_edit_problems_keyed_by_field(tmp_path: Path):
    """Like apply_fields: every problem of the YAML view, keyed by its field's path."""
    path, record = _gpl_comparison(tmp_path / "outputs")
    text = view(record, path)
    for edited, fields in [
        ("tools: []\n", ["tools"]),
        (
            text.replace("score: 80", "score: 180", 1).replace("check: []", "check: [99]", 1),
            ["tools[0].reviews.builder.score", "tools[0].reviews.skeptic.check"],
        ),
    ]:
        with pytest.raises(EditProblems) as refused:
            apply_view(record, edited, "ana")
        assert sorted(refused.value.problems) == fields


def test_validate_keeps_claim_problems_apart_and_publish_reads_them(tmp_path: Path):
    """A contradicted claim nobody checked is a claims problem, not the file's own; a schema
    error inside a claim is the file's own. Publishing once matched `.claims[` in the path to
    tell them apart, and a record whose only schema error was inside a claim crashed it."""
    path, _ = _gpl_comparison(tmp_path / "outputs")
    report = validate_file(path, load_personas())
    assert report.problems == [] and not report.ok
    assert report.claims and all(p.path.startswith("$.panels[0].reviews[1].claims[") for p in report.claims)
    data = json.loads(path.read_text())
    data["panels"][0]["reviews"][1]["claims"] = [{"text": "GPL-3.0", "status": "contradicted"}]  # no kind
    path.write_text(json.dumps(data, indent=2))
    report = validate_file(path, load_personas())
    assert report.record is None and report.claims == []
    assert [p.path for p in report.problems] == ["$.panels[0].reviews[1].claims[0]"]
    with pytest.raises(
        InputError, match=r"cannot publish: \$\.panels\[0\]\.reviews\[1\]\.claims\[0\]: 'kind'"
    ):
        publish(path, Outputs(tmp_path / "outputs"), load_personas(), "ana", lambda record, fmt: "")
