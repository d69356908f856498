"""`panel intake` as a user runs it: the real console script against the loopback vendor site
(tests/vendorsite.py), registries included, so nothing leaves this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from panel.inputs.toolfiles import load_tool

from conftest import panel_command, run_panel, tree
from vendorsite import VendorSite


def intake(site: VendorSite, cwd: Path, *args: str, timeout: str = "5"):
    return run_panel(
        "intake",
        *args,
        "--allow-host",
        site.host,
        "--delay",
        "0",
        "--timeout",
        timeout,
        cwd=cwd,
        env=site.env(),
    )


def test_a_feed_becomes_one_tool_file_per_entry_with_dated_evidence(vendor_site: VendorSite, workdir: Path):
    result = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/feed.atom")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("fernwick", "lanternfish", "murmur-1b"):
        assert f"Wrote tools/{name}.yaml" in result.stdout
    fernwick = load_tool(workdir / "tools/fernwick.yaml")
    assert (fernwick.name, fernwick.tagline) == ("Fernwick", "schema migrations that review themselves")
    titles = [s.title for s in fernwick.sources]
    assert titles == [
        "Home page",
        "Pricing page",
        "License page",
        "Docs page",
        "Changelog page",
        "PyPI: fernwick",
        "GitHub releases: fernwick-labs/fernwick",
    ]
    evidence = workdir / "outputs/evidence"
    for source in fernwick.sources:
        assert source.url.startswith(vendor_site.url) and source.fetched_at is not None
        sha = source.snapshot.removeprefix("sha256:")
        assert (evidence / sha[:2] / sha).is_file() and (evidence / sha[:2] / f"{sha}.json").is_file()
    license_page = next(s for s in fernwick.sources if s.title == "License page")
    assert "Business Source License 1.1 (BUSL-1.1)" in license_page.text
    assert "License (PyPI metadata): BUSL-1.1." in fernwick.sources[5].text
    lantern = load_tool(workdir / "tools/lanternfish.yaml")
    assert {"License page", "npm: lanternfish", "crates.io: lanternfish-core"} <= {
        s.title for s in lantern.sources
    }
    murmur = load_tool(workdir / "tools/murmur-1b.yaml")
    assert "Hugging Face Hub: murmur-ai/murmur-1b" in {s.title for s in murmur.sources}


def test_registry_facts_that_conflict_with_the_pages_are_named(vendor_site: VendorSite, workdir: Path):
    result = intake(vendor_site, workdir, f"{vendor_site.url}/murmur/")
    assert result.returncode == 0, result.stderr
    said = "Hugging Face Hub: murmur-ai/murmur-1b says license 'mit', but the Home page says"
    assert f"Note {vendor_site.url}/murmur/: conflict: {said}" in result.stdout
    header = (workdir / "tools/murmur-1b.yaml").read_text().split("\nname:")[0]
    assert f"# Conflict: {said}" in header


def test_a_rerun_of_an_unchanged_feed_fetches_no_bodies_and_writes_nothing(
    vendor_site: VendorSite, workdir: Path
):
    assert intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/feed.atom").returncode == 0
    before, bodies = tree(workdir), vendor_site.total_bodies()
    stamps = {p: p.stat().st_mtime_ns for p in workdir.rglob("*") if p.is_file()}
    again = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/feed.atom")
    assert again.returncode == 0, again.stderr
    assert vendor_site.total_bodies() == bodies and vendor_site.requests["/feed.atom"] == 2
    assert tree(workdir) == before and stamps == {
        p: p.stat().st_mtime_ns for p in workdir.rglob("*") if p.is_file()
    }
    assert "3 taken in before (skipped)" in again.stdout


def test_a_rerun_by_url_asks_conditionally_and_leaves_the_file_alone(vendor_site: VendorSite, workdir: Path):
    assert intake(vendor_site, workdir, f"{vendor_site.url}/fernwick/").returncode == 0
    bodies, before = vendor_site.total_bodies(), tree(workdir)
    again = intake(vendor_site, workdir, f"{vendor_site.url}/fernwick/")
    assert again.returncode == 0 and "Unchanged tools/fernwick.yaml" in again.stdout
    assert vendor_site.total_bodies() == bodies + 1  # robots.txt only: every page answered 304
    assert tree(workdir) == before


def test_hostile_and_broken_entries_are_each_named_and_the_rest_taken_in(
    vendor_site: VendorSite, workdir: Path
):
    other = VendorSite().start()
    vendor_site.other_port = other_port = other.port
    try:
        result = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/trouble.atom", timeout="1")
    finally:
        other.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    url, port = vendor_site.url, vendor_site.port
    lines = result.stdout.splitlines()
    expected = [
        f"Refused {url}/go/loopback/: redirects to http://127.0.0.2:{port}/fernwick/: "
        "127.0.0.2 is a loopback address",
        f"Refused {url}/go/other-port/: redirects to http://127.0.0.1:{other_port}/fernwick/: "
        "127.0.0.1 is a loopback address",
        f"Refused {url}/bomb/: body is over the 5,000,000-byte cap after decompression",
        f"Refused {url}/huge/: body is over the 5,000,000-byte cap",
        f"Failed {url}/slow/: timed out after 1 s",
        f"Skipped {url}/members/bramblecast/: robots.txt of {url} disallows it for panel/0.1.0",
        f"Refused {url}/download.bin: content type application/octet-stream is not read here",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, start
    assert not other.requests  # the other port was never contacted
    for good in ("fernwick", "lanternfish"):
        assert len(load_tool(workdir / f"tools/{good}.yaml").sources) >= 5
    sidestep = load_tool(workdir / "tools/sidestep.yaml")  # written with what the feed said
    assert sidestep.description == "Its link redirects to 127.0.0.2." and not sidestep.sources
    assert result.stdout.rstrip().endswith("Intake: 9 entries, 9 written, 7 failures")


def test_rss_json_feed_and_pages_that_need_a_hand(vendor_site: VendorSite, workdir: Path):
    rss = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/feed.rss")
    assert rss.returncode == 0, rss.stdout + rss.stderr
    assert f"Note {vendor_site.url}/shellbox/: needs material by hand" in rss.stdout
    shellbox = workdir / "tools/shellbox.yaml"
    assert "needs material by hand" in shellbox.read_text().split("\nname:")[0]
    assert (
        load_tool(shellbox).description == "Shellbox gives every pull request a disposable development shell."
    )
    assert "$8 per user per month" in load_tool(workdir / "tools/nextpad.yaml").sources[0].text
    json_feed = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/feed.json", "--to", "more")
    assert json_feed.returncode == 1 and "Skipped entry 3: no http(s) link to the tool" in json_feed.stdout
    assert sorted(p.name for p in (workdir / "more").iterdir()) == ["lanternfish.yaml", "nextpad.yaml"]


def test_a_feed_file_and_a_limit(vendor_site: VendorSite, workdir: Path):
    feed = workdir / "launches.atom"
    feed.write_bytes(vendor_site.file("/feed.atom")[0])  # type: ignore[index]
    result = intake(vendor_site, workdir, "--feed", str(feed), "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (workdir / "tools").iterdir()) == ["fernwick.yaml", "lanternfish.yaml"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--feed", "missing.atom"), "missing.atom: no such feed file"),
        (("--feed", "bad.atom"), "bad.atom: the feed is not well-formed XML"),
        (("ftp://vendor.test/",), "'ftp://vendor.test/' is not an http(s) address"),
        (("http://vendor.test/", "--feed", "bad.atom"), "give tool URLs or --feed FEED, not both"),
        ((), "give tool URLs or --feed FEED"),
        (("--feed", "http://127.0.0.1:9/feed.atom"), "cannot read the feed"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(workdir: Path, args: tuple[str, ...], problem: str):
    (workdir / "bad.atom").write_text('<feed xmlns="http://www.w3.org/2005/Atom"><entry>')
    before = tree(workdir)
    result = run_panel("intake", *args, "--delay", "0", cwd=workdir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert tree(workdir) == before


def test_a_feed_address_that_serves_no_feed_leaves_nothing_behind(vendor_site: VendorSite, workdir: Path):
    vendor_site.overrides["/not-a-feed.xml"] = (b"<html><body>a page</body></html>", "application/xml")
    before = tree(workdir)
    result = intake(vendor_site, workdir, "--feed", f"{vendor_site.url}/not-a-feed.xml")
    assert result.returncode == 2 and "not an Atom, RSS or JSON Feed document" in result.stderr
    assert tree(workdir) == before  # no snapshot, no state, no tool file


def test_a_bad_allow_host_is_one_line(workdir: Path):
    result = run_panel("intake", "http://vendor.test/", "--allow-host", "a b", cwd=workdir)
    assert result.returncode == 2 and "expected HOST or HOST:PORT" in result.stderr


def test_kill_9_during_a_long_feed_then_a_rerun_finishes_it(vendor_site: VendorSite, workdir: Path):
    """The run is killed while it works; the re-run takes in the rest, fetching no finished entry
    again, and no tool file is half-written."""
    count = 30
    feed = f"{vendor_site.url}/gen/feed.atom?count={count}"
    exe, env = panel_command(vendor_site.env())
    args = [exe, "intake", "--feed", feed, "--allow-host", vendor_site.host, "--delay", "0.03"]
    process = subprocess.Popen(
        args, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    taken = workdir / "outputs/intake/taken.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not taken.exists() or taken.read_text().count("\n") < 5):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = taken.read_text().count("\n")
    assert 5 <= finished < count, "kill -9 came too late to test resuming"
    fetched = {p: n for p, n in vendor_site.bodies.items() if p.startswith("/gen/") and p.endswith("/")}
    half = workdir / "tools" / ".gentool-99.yaml.999999999.x1y2.tmp"  # as a kill mid-write leaves it
    half.write_text("name: Gent")
    result = intake(vendor_site, workdir, "--feed", feed)
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted((workdir / "tools").glob("*.yaml"))
    assert len(files) == count
    for file in files:
        load_tool(file)  # every file whole and valid
    assert not half.exists()  # a killed run's temp file is swept
    again = [p for p, n in vendor_site.bodies.items() if p.startswith("/gen/") and p.endswith("/") and n > 1]
    assert len(again) <= 1  # at most the entry in flight at the kill is fetched twice
    assert len(fetched) >= finished
