"""Grounding a record: claims recomputed from the text, merged with the model pass's, people's
marks kept; and the commands on top of it (`panel claims`, the publish gate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.grounding.ground import counts, merge_claims, refresh
from panel.records import Check, Claim, Evidence, ToolPanel
from panel.records.store import load_record, write_record

from conftest import run_panel, tree
from factory import panel, write_comparison

BURROW = (
    "Burrow keeps secrets encrypted in the repository, with a key per person. "
    "It is free and open source under the BSD 3-Clause license; there is no paid tier."
)
SKEPTIC = (
    "Doppler and Infisical already sell this job to teams that want a dashboard. The license is the "
    "first thing I would check: a GPL-3.0 tool inside every pipeline makes legal teams nervous, and at "
    "$30 per seat the savings over Doppler disappear fast. The scenario where it breaks is a "
    "contractor who leaves with a decrypted copy. Skip until someone outside the vendor ran it a year."
)
EVIDENCE = Evidence(id="s9", sentence="It is free.", source="description")


def burrow_with_a_hand_edit(root: Path) -> Path:
    """The issue's case: a Skeptic paragraph replaced by hand with a wrong license and a price."""
    path = root / "panels" / "burrow.json"
    write_record(path, panel("Burrow", description=BURROW, pricing={"entry": "free"}))
    data = json.loads(path.read_text())
    data["reviews"][1].update(review=SKEPTIC, score=40, verdict="skip")
    path.write_text(json.dumps(data, indent=2))
    return path


def test_claims_lists_the_contradictions_with_their_evidence_and_exits_1(tmp_path: Path):
    path = burrow_with_a_hand_edit(tmp_path / "outputs")
    result = run_panel("claims", str(path), "--json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    (record,) = json.loads(result.stdout)["records"]
    skeptic = next(r for r in record["reviews"] if r["persona"] == "skeptic")
    by_text = {c["text"]: c for c in skeptic["claims"]}
    for text, kind in (("GPL-3.0", "license"), ("$30 per seat", "price")):
        claim = by_text[text]
        assert (claim["kind"], claim["status"], claim["origin"]) == (kind, "contradicted", "rules")
        assert claim["evidence"]["sentence"] in BURROW and claim["evidence"]["source"] == "description"
    assert {by_text[n]["status"] for n in ("Doppler", "Infisical")} == {"unsupported"}
    assert by_text["Doppler"]["evidence"] is None


def test_publish_refuses_naming_each_claim_until_checked(tmp_path: Path):
    root = tmp_path / "outputs"
    path = burrow_with_a_hand_edit(root)
    env = {"USER": "dana"}
    before = tree(tmp_path)
    refused = run_panel("publish", str(path), cwd=tmp_path, env=env)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1
    assert "'GPL-3.0' (license)" in lines[0] and "'$30 per seat' (price)" in lines[0]
    assert "Doppler" not in lines[0]  # unsupported claims warn; they do not refuse
    assert tree(tmp_path) == before
    for text in ("GPL-3.0", "$30 per seat"):
        where = ("--tool", "Burrow", "--persona", "skeptic", "--note", "verified")
        marked = run_panel("claims", str(path), "--check", text, *where, cwd=tmp_path, env=env)
        assert "Marked checked in" in marked.stderr
    assert marked.returncode == 0  # no unchecked contradiction left
    strict = run_panel("publish", str(path), "--require-checked", cwd=tmp_path, env=env)
    assert strict.returncode == 2 and "'Doppler' (name), which the material does not support" in strict.stderr
    published = run_panel("publish", str(path), cwd=tmp_path, env=env)
    assert published.returncode == 0, published.stderr
    assert "warning: Burrow: the skeptic review says 'Doppler'" in published.stderr
    record = load_record(root / "published" / "burrow.json", ToolPanel).record
    gpl = next(c for c in record.reviews[1].claims if c.text == "GPL-3.0")
    assert gpl.checked is not None and gpl.checked.by == "dana" and gpl.checked.note == "verified"


def test_a_mark_survives_recomputation_until_the_claims_text_changes():
    record = refresh(panel("Burrow", description=BURROW, pricing={"entry": "free"}), [])
    skeptic = record.reviews[1].model_copy(update={"review": SKEPTIC})
    record = refresh(
        record.model_copy(update={"reviews": [record.reviews[0], skeptic, *record.reviews[2:]]}), []
    )
    claims = [
        c.model_copy(update={"checked": Check(by="ana")}) if c.text == "GPL-3.0" else c
        for c in record.reviews[1].claims
    ]
    record = record.model_copy(
        update={
            "reviews": [
                record.reviews[0],
                record.reviews[1].model_copy(update={"claims": claims}),
                *record.reviews[2:],
            ]
        }
    )
    again = refresh(record, [])
    assert next(c for c in again.reviews[1].claims if c.text == "GPL-3.0").checked is not None
    assert counts(again.reviews[1].claims).open_contradicted == 1  # the price is still open
    changed = again.reviews[1].model_copy(update={"review": SKEPTIC.replace("GPL-3.0", "AGPL-3.0")})
    rewritten = refresh(
        again.model_copy(update={"reviews": [again.reviews[0], changed, *again.reviews[2:]]}), []
    )
    assert all(c.checked is None for c in rewritten.reviews[1].claims)


@pytest.mark.parametrize(
    ("rule", "model", "winner"),
    [
        # A rules contradiction always wins.
        (
            Claim(text="GPL-3.0", kind="license", status="contradicted", evidence=EVIDENCE),
            "supported",
            "rules",
        ),
        # Where the rules found nothing to rest on, the model's evidence wins.
        (Claim(text="GPL-3.0", kind="license", status="unsupported"), "supported", "model"),
        # The model without evidence adds nothing over the rules.
        (Claim(text="GPL-3.0", kind="license", status="unsupported"), "unsupported", "rules"),
    ],
)
def test_merging_the_model_pass(rule: Claim, model: str, winner: str):
    evidence = EVIDENCE if model != "unsupported" else None
    from_model = Claim(text="a GPL-3.0 tool", kind="license", status=model, evidence=evidence, origin="model")
    feature = Claim(
        text="runs offline", kind="feature", status="supported", evidence=EVIDENCE, origin="model"
    )
    merged = merge_claims([rule], [from_model, feature])
    assert [c.origin for c in merged] == [winner, "model"]  # the feature is added
    assert merged[-1].text == "runs offline"


def test_checking_a_claim_in_a_comparison_marks_the_tools_panel_too(tmp_path: Path):
    root = tmp_path / "outputs"
    burrow = panel("Burrow", description=BURROW)
    burrow = burrow.model_copy(
        update={"reviews": [r.model_copy(update={"review": SKEPTIC}) for r in burrow.reviews]}
    )
    path = write_comparison(root, burrow, panel("Keyring", description="Keeps keys for teams in one vault."))
    check = ("--tool", "Burrow", "--persona", "skeptic")
    result = run_panel("claims", str(path), "--check", "GPL-3.0", *check, cwd=tmp_path, env={"USER": "ana"})
    panel_path = root / "panels" / "burrow.json"
    assert f"Marked checked in {panel_path}" in result.stderr
    marked = load_record(panel_path, ToolPanel).record.reviews[1]
    assert next(c for c in marked.claims if c.text == "GPL-3.0").checked.by == "ana"
    # A panel file edited by hand is left alone, and the command says so.
    data = json.loads(panel_path.read_text())
    data["reviews"][1]["review"] = SKEPTIC.replace("fast", "quickly")
    panel_path.write_text(json.dumps(data, indent=2))
    again = run_panel("claims", str(path), "--check", "$30 per seat", *check, cwd=tmp_path)
    assert "burrow.json: not updated: it was edited by hand" in again.stderr
