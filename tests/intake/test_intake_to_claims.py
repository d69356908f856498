"""The issue's end to end: a launch feed taken in from the loopback vendor site, the folder
reviewed by `panel batch` on the session's real vLLM server, and a claim "MIT licensed" about a
tool whose license page says BUSL-1.1 contradicted with that page's sentence, address and time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.editorial.editing import apply_fields
from panel.editorial.saving import save_edit
from panel.records import ToolPanel
from panel.records.store import Outputs, file_version, load_record

from conftest import run_panel, tiny_profiles, write_models
from vendorsite import VendorSite
from vllmserver import VLLMServer

MIT = (
    "Fernwick is MIT licensed, so legal will wave it through, and it reads every migration before "
    "it runs. The first hour is pointing it at last month's migrations and reading what it would "
    "have stopped. A weekend script could grep for ALTER TABLE, but it would not know which "
    "statements rewrite a table and which only touch the catalogue, and that difference is the "
    "whole product. The risk is noise: if it flags safe statements, teams will mute it within a week."
)


@pytest.mark.server
def test_intake_then_batch_then_a_contradicted_license_claim(
    vendor_site: VendorSite, workdir: Path, tiny_model: Path, vllm_server: VLLMServer
):
    env = vendor_site.env()
    taken = run_panel(
        "intake", "--feed", f"{vendor_site.url}/feed.atom", "--allow-host", vendor_site.host, "--delay", "0",
        cwd=workdir, env=env,
    )  # fmt: skip
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert sorted(p.name for p in (workdir / "tools").iterdir()) == [
        "fernwick.yaml",
        "lanternfish.yaml",
        "murmur-1b.yaml",
    ]

    models = write_models(workdir / "models.yaml", tiny_profiles(tiny_model, vllm_server.base_url))
    env = {**env, "PANEL_MODELS_FILE": str(models), "USER": "dana"}
    batch = run_panel("batch", "tools", "-m", "tiny-server", "--run-id", "nightly", cwd=workdir, env=env)
    assert batch.returncode in (0, 1), batch.stdout + batch.stderr  # the random model may fail a review
    path = workdir / "outputs/panels/fernwick.json"
    record = load_record(path, ToolPanel).record
    assert {s.title for s in record.tool.sources} >= {"Home page", "License page", "PyPI: fernwick"}
    persona = record.reviews[0].persona

    # A reviewer's edit through the editorial path (as `panel edit` and the desk save).
    version = file_version(path)
    applied = apply_fields(record, {"Fernwick": {persona: {"review": MIT}}})
    save_edit(path, applied, "dana", Outputs(workdir / "outputs"), version)

    result = run_panel("claims", str(path), "--json", cwd=workdir, env=env)
    assert result.returncode == 1, result.stderr  # a contradicted claim nobody checked
    reviews = json.loads(result.stdout)["records"][0]["reviews"]
    claims = next(r for r in reviews if r["persona"] == persona)["claims"]
    mit = next(c for c in claims if c["kind"] == "license" and "MIT" in c["text"])
    assert mit["status"] == "contradicted"
    evidence = mit["evidence"]
    assert evidence["sentence"] == "Fernwick is licensed under the Business Source License 1.1 (BUSL-1.1)."
    assert evidence["source"] == "source: License page"
    assert evidence["url"] == f"{vendor_site.url}/fernwick/license.html" and evidence["fetched_at"]

    shown = run_panel("claims", str(path), cwd=workdir, env={**env, "COLUMNS": "400"})
    assert f"License page, {vendor_site.url}/fernwick/license.html, read " in shown.stdout
