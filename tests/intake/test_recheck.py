"""`panel recheck`: a published record's sources fetched again from the loopback vendor site. A
changed pricing page flips a claim, marks the record stale (on the desk too) and exits 1; an
unchanged one moves the "Sources checked on" date of the published page, and costs no bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from panel.desk.queue import QueueQuery, queue_view
from panel.editorial.editing import apply_fields
from panel.editorial.saving import save_edit
from panel.index.database import RecordIndex
from panel.inputs.toolfiles import load_tool
from panel.records import ToolPanel
from panel.records.store import Outputs, file_version, load_record, write_record

from conftest import run_panel
from factory import PARAGRAPH, PERSONAS, panel, review
from vendorsite import VendorSite

PRICE = "The Team plan at $12 per seat per month is fair for what it catches."
READ_ON = "2026-10-03T09:00:00Z"


def published(site: VendorSite, root: Path) -> Path:
    """Fernwick taken in from the vendor site (its sources dated READ_ON), reviewed with one
    price claim, and published."""
    result = run_panel(
        "intake", f"{site.url}/fernwick/", "--allow-host", site.host, "--delay", "0", cwd=root, env=site.env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tool_file = root / "tools/fernwick.yaml"
    data = yaml.safe_load(tool_file.read_text())
    for source in data["sources"]:
        source["fetched_at"] = READ_ON  # as if intake had run weeks before
    tool_file.write_text(yaml.safe_dump(data))
    reviews = [review(p, s) for p, s in zip(PERSONAS, (80, 55, 70, 65), strict=True)]
    reviews[1] = review("skeptic", 55, text=f"{PARAGRAPH} {PRICE}")
    draft = root / "outputs/panels/fernwick.json"
    write_record(draft, ToolPanel(tool=load_tool(tool_file), reviews=reviews))
    result = run_panel("publish", str(draft), cwd=root, env={"USER": "cam"})
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "outputs/published/fernwick.json"


def recheck(site: VendorSite, root: Path, *args: str):
    return run_panel(
        "recheck",
        *args,
        "--allow-host",
        site.host,
        "--delay",
        "0",
        cwd=root,
        env={**site.env(), "USER": "rex"},
    )


def price_claim(record: ToolPanel):
    return next(c for c in record.review_for("skeptic").claims if c.text == "$12 per seat per month")  # type: ignore[union-attr]


def test_a_changed_pricing_page_flips_the_claim_and_marks_the_record_stale(
    vendor_site: VendorSite, workdir: Path
):
    path = published(vendor_site, workdir)
    before = load_record(path, ToolPanel).record
    assert price_claim(before).status == "supported"
    for page in ("/fernwick/pricing.html", "/fernwick/"):
        body, kind = vendor_site.file(page)  # type: ignore[misc]
        vendor_site.overrides[page] = (body.replace(b"$12", b"$15").replace(b'"12"', b'"15"'), kind)

    result = recheck(vendor_site, workdir)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert (
        f"Rechecked {path.relative_to(workdir)}: 7 sources checked: 2 changed (Home page, Pricing page)"
        in out
    )
    assert "Fernwick · Skeptic · price '$12 per seat per month': supported → contradicted" in out
    pricing_url = f"{vendor_site.url}/fernwick/pricing.html"
    assert (
        "    before: '| Team | $12 per seat per month | Pull request bot, Slack alerts, 90-day history |' "
        f"(source: Pricing page, {pricing_url}, read 2026-10-03 09:00 UTC)"
    ) in out
    assert "    now: '| Team | $15 per seat per month | Pull request bot" in out
    assert "Marked stale: Fernwick: the skeptic review says '$12 per seat per month' (price)" in out
    assert "outputs/panels/fernwick.json: updated (the draft)" in out

    after = load_record(path, ToolPanel).record
    assert (
        after.stale is not None and after.stale.by == "rex" and "$12 per seat per month" in after.stale.reason
    )
    claim = price_claim(after)
    assert claim.status == "contradicted" and claim.blocks_publishing
    assert claim.evidence is not None and claim.evidence.url == pricing_url
    assert claim.evidence.fetched_at is not None and claim.evidence.fetched_at > datetime(
        2026, 10, 4, tzinfo=UTC
    )
    change = after.history[-1]
    assert (change.action, change.by, change.fields) == ("rechecked", "rex", ["tool.sources"])
    assert "2 changed (Home page, Pricing page)" in change.note
    draft = load_record(workdir / "outputs/panels/fernwick.json", ToolPanel).record
    assert draft.stale is None and price_claim(draft).status == "contradicted"  # the fix is made on the draft

    with RecordIndex(workdir / "outputs") as index:  # the desk's queue, filtered to stale records
        index.sync()
        page = index.query(flag="stale")
        assert [row.title for row in page.rows] == ["Fernwick"] and "stale" in page.rows[0].flags
        view = queue_view(QueueQuery.parse({"flag": "stale"}), page.rows, page.total)
    assert view.rows[0].flags[-1] == "stale: sources changed"
    assert [o.value for o in view.flags if o.selected] == ["stale"]

    # The editor fixes the draft and publishes it again: revision 2, no longer stale.
    draft_path = workdir / "outputs/panels/fernwick.json"
    applied = apply_fields(draft, {"Fernwick": {"skeptic": {"review": PARAGRAPH}}})
    save_edit(draft_path, applied, "cam", Outputs(workdir / "outputs"), file_version(draft_path))
    again = run_panel("publish", str(draft_path), cwd=workdir, env={"USER": "cam"})
    assert again.returncode == 0, again.stdout + again.stderr
    fixed = load_record(path, ToolPanel).record
    assert fixed.revision == 2 and fixed.stale is None


def test_an_unchanged_source_costs_no_body_and_moves_the_checked_date(vendor_site: VendorSite, workdir: Path):
    path = published(vendor_site, workdir)
    page = path.with_suffix(".html")
    assert "Sources checked on 2026-10-03" in page.read_text()  # the fetch time, not the render time
    assert "Sources checked on 2026-10-03" in path.with_suffix(".md").read_text()
    bodies = vendor_site.total_bodies()

    result = recheck(vendor_site, workdir, str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert vendor_site.total_bodies() == bodies + 1  # robots.txt; every source answered 304
    assert "7 sources checked: 0 changed" in result.stdout
    record = load_record(path, ToolPanel).record
    today = record.history[-1].at.date().isoformat()
    assert record.stale is None and record.history[-1].action == "rechecked"
    assert all(
        s.checked_at is not None and s.fetched_at == datetime(2026, 10, 3, 9, tzinfo=UTC)
        for s in record.tool.sources
    )
    assert f"Sources checked on {today}" in page.read_text()
    data = json.loads(path.read_text())
    assert data["status"] == "published" and data["revision"] == 1


def test_a_source_that_cannot_be_fetched_is_named_and_exits_1(vendor_site: VendorSite, workdir: Path):
    path = published(vendor_site, workdir)
    result = run_panel(
        "recheck", str(path), "--delay", "0", cwd=workdir, env=vendor_site.env()
    )  # no --allow-host
    assert result.returncode == 1
    assert f"Refused {vendor_site.url}/fernwick/: 127.0.0.1 is a loopback address" in result.stdout
    assert "7 could not be fetched" in result.stdout
    assert load_record(path, ToolPanel).record.stale is None


def test_nothing_to_recheck_and_bad_records(workdir: Path):
    none = run_panel("recheck", cwd=workdir)
    assert none.returncode == 0 and "nothing to recheck" in none.stdout
    typed = workdir / "outputs/panels/typed.json"  # sources typed by a person: nothing to fetch
    write_record(typed, ToolPanel(tool=panel("Typed").tool, reviews=[review("builder", 80)]))
    before = typed.read_bytes()
    result = run_panel("recheck", str(typed), cwd=workdir)
    assert (
        result.returncode == 0 and "Rechecked outputs/panels/typed.json: no fetched sources" in result.stdout
    )
    assert typed.read_bytes() == before
    (workdir / "broken.json").write_text("{")
    bad = run_panel("recheck", "broken.json", cwd=workdir)
    assert bad.returncode == 2 and "broken.json" in bad.stderr and "Traceback" not in bad.stderr
