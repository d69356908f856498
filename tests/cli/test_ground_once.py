"""A command grounds each review once: the claim rules run once per review text and tool, however
many steps of the command (validation, the save, the tool's panel file, the record index's write
listener, the re-read for the output) look at the claims."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from panel.index.database import DB_NAME, RecordIndex
from panel.records import ToolPanel

from conftest import run_panel
from factory import panel, write_comparison

SKEPTIC = (
    "Doppler and Infisical already sell this job to teams that want a dashboard. The license is the "
    "first thing I would check: a GPL-3.0 tool inside every pipeline makes legal teams nervous, and at "
    "$30 per seat the savings over Doppler disappear fast. Skip until someone ran it for a year. "
)


BURROW = "Burrow is free and open source under the MIT license."


def _unique(record: ToolPanel, tag: str) -> ToolPanel:
    """Review texts no earlier test of this process has grounded: the count starts from zero."""
    reviews = [r.model_copy(update={"review": f"{SKEPTIC}Case {tag}-{r.persona}."}) for r in record.reviews]
    return record.model_copy(update={"reviews": reviews})


def test_claims_check_on_a_comparison_with_an_index_grounds_each_review_once(
    tmp_path: Path, workdir: Path, grounding_runs: Counter[tuple[str, str]]
) -> None:
    from panel.cli.app import app

    root = tmp_path / "outputs"
    tag = uuid.uuid4().hex[:8]
    burrow = _unique(panel("Burrow", description=BURROW), tag)
    keyring = _unique(panel("Keyring", description="Keyring keeps keys for teams in one vault."), tag)
    path = write_comparison(root, burrow, keyring)
    built = run_panel("stats", str(root), cwd=workdir)  # an index, built by another process
    assert built.returncode == 0, built.stderr
    assert (root / DB_NAME).exists()
    grounding_runs.clear()  # write_comparison grounded them in this process; the command starts afresh

    args = ["claims", str(path), "--check", "GPL-3.0", "--tool", "Burrow", "--persona", "skeptic"]
    result = CliRunner().invoke(app, [*args, "--editor", "ana", "--out", str(root)])

    assert result.exit_code == 1, result.output  # the $30 price is still contradicted, unchecked
    assert f"Marked checked in {root / 'panels' / 'burrow.json'}" in result.output
    reviews = {(p.tool.name, r.review) for p in (burrow, keyring) for r in p.reviews}
    assert len(reviews) == 8
    assert dict(grounding_runs) == dict.fromkeys(reviews, 1)
    with RecordIndex(root) as index:  # the write listener indexed both saves (no sync here)
        for record_id in ("comparisons~burrow-vs-keyring", "panels~burrow"):
            row = index.get(record_id)
            assert row is not None and row.counts["checked"] == 1, record_id
