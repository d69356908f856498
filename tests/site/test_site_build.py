"""`panel site build`: what it writes, what a rebuild rewrites, and a site that is always whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from panel.editorial import votes
from panel.errors import ConflictError, InputError
from panel.records import Comparison
from panel.records.store import Outputs, load_record, write_record
from panel.site.build import SiteOptions, build
from panel.site.releases import Releases

from conftest import panel_command, run_panel, tree
from factory import (
    SITE_AT,
    panel,
    publish,
    write_comparison,
    write_example_comparison,
    write_published,
    write_site_records,
)
from pages import NAMES, comparison

BASE = "https://reviews.example/"
EXAMPLE = "quillstack-vs-ledgerlight"
CRON = "cronwright-vs-ticklane"


def site_build(root: Path, out: Path, **options: object) -> object:
    settings = {"base_url": BASE, "personas": NAMES, **options}
    return build(SiteOptions(outputs=root, out=out, **settings))  # type: ignore[arg-type]


def inodes(site: Path) -> dict[str, int]:
    """Every file of a built site and its inode: a file the rebuild rewrote has a new one."""
    return {str(p.relative_to(site)): p.stat().st_ino for p in sorted(site.rglob("*")) if p.is_file()}


def rewritten(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {path for path, ino in after.items() if before.get(path) != ino}


def group(slug: str, *tools: str, category: str = "uncategorized") -> set[str]:
    """A comparison's page and JSON, its tools' pages and JSON, its category's page, JSON and feed."""
    files = {f"comparisons/{slug}.html", f"api/comparisons/{slug}.json"}
    files |= {f"tools/{t}.html" for t in tools} | {f"api/tools/{t}.json" for t in tools}
    files |= {f"categories/{category}.html", f"api/categories/{category}.json", f"feeds/{category}.xml"}
    return files


INDEXES = {"index.html", "api/index.json", "feed.xml", "feed.json", "sitemap.xml"}


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    write_site_records(root)
    return root


def test_the_first_build_writes_every_page_feed_and_api_file(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    report = site_build(outputs, site)
    expected = (
        group(EXAMPLE, "quillstack", "ledgerlight")
        | group(CRON, "cronwright", "ticklane", category="developer-tools")
        | INDEXES
        | {"assets/site.css"}
    )
    assert set(inodes(site)) == expected
    assert sorted(report.written) == sorted(expected)  # type: ignore[attr-defined]
    assert (report.records, report.comparisons, report.tools, report.categories) == (2, 2, 4, 2)  # type: ignore[attr-defined]
    assert site.is_symlink()  # the site is a link to its current build


def test_a_rebuild_with_nothing_changed_rewrites_nothing(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    site_build(outputs, site)
    before = inodes(site)
    report = site_build(outputs, site)
    assert report.written == [] and report.removed == []  # type: ignore[attr-defined]
    assert inodes(site) == before


def test_republishing_one_comparison_rewrites_its_pages_its_tools_its_category_and_the_indexes(
    tmp_path: Path,
):
    """Through the real commands' code: votes imported into the draft, published again."""
    root = tmp_path / "outputs"
    draft = write_example_comparison(root)
    write_published(root, load_record(draft, Comparison).record, at=SITE_AT)  # published last week
    write_published(root, comparison(), at=SITE_AT)
    site = tmp_path / "site"
    site_build(root, site)
    before = inodes(site)

    tallies = [votes.Tally("Quillstack", 12, 3)]
    outcomes, _ = votes.import_votes(tallies, Outputs(root), "dana", draft)
    assert outcomes[0].status == "updated"
    publish(draft, root)
    assert load_record(root / "published" / f"{EXAMPLE}.json", Comparison).record.revision == 2

    report = site_build(root, site)
    changed = rewritten(before, inodes(site))
    assert changed == group(EXAMPLE, "quillstack", "ledgerlight") | INDEXES
    assert sorted(report.written) == sorted(changed)  # type: ignore[attr-defined]
    assert set(inodes(site)) == set(before)  # nothing added, nothing lost


def test_a_tool_reviewed_again_rebuilds_its_other_comparisons_and_nothing_else(tmp_path: Path):
    """A comparison is rebuilt when either tool's panel changes, even if its own record did not."""
    root = tmp_path / "outputs"
    quill, ledger, ink = panel("Quillstack"), panel("Ledgerlight", (40, 45, 62, 30)), panel("Inkwell")
    write_published(root, Comparison(panels=[quill, ledger]), at=SITE_AT)
    write_published(root, Comparison(panels=[quill, ink]), at=SITE_AT)
    site = tmp_path / "site"
    site_build(root, site)
    before = inodes(site)

    edited = quill.model_copy(
        update={"reviews": [quill.reviews[0].model_copy(update={"score": 95}), *quill.reviews[1:]]}
    )
    later = SITE_AT + timedelta(days=3)
    record = load_record(root / "published" / "quillstack-vs-inkwell.json", Comparison).record
    write_published(root, record.model_copy(update={"panels": [edited, ink]}), at=later)
    site_build(root, site)
    changed = rewritten(before, inodes(site))
    # The other comparison's page notes Quillstack's newer panel (its JSON, the record as it is, stays).
    assert changed == group("quillstack-vs-inkwell", "quillstack", "inkwell") | INDEXES | {
        f"comparisons/{EXAMPLE}.html"
    }
    page = (site / f"comparisons/{EXAMPLE}.html").read_text()
    assert (
        'Quillstack</a> was reviewed again on <time datetime="2026-12-05T09:00:00Z">5 Dec 2026</time>' in page
    )
    assert "tools/ledgerlight.html" not in changed


def test_deleted_and_unpublished_records_lose_their_pages(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    site_build(outputs, site)
    (outputs / "published" / f"{CRON}.json").unlink()
    report = site_build(outputs, site)
    gone = group(CRON, "cronwright", "ticklane", category="developer-tools")
    assert sorted(report.removed) == sorted(gone)  # type: ignore[attr-defined]
    assert not gone & set(inodes(site))
    assert "cronwright" not in (site / "sitemap.xml").read_text()
    assert "Cronwright" not in (site / "index.html").read_text()


def test_a_draft_in_the_published_folder_or_a_broken_file_stops_the_build_and_keeps_the_site(
    outputs: Path, tmp_path: Path
):
    site = tmp_path / "site"
    site_build(outputs, site)
    before = tree(site)
    target = outputs / "published" / f"{CRON}.json"
    good = target.read_bytes()

    target.write_text("{")
    with pytest.raises(InputError) as bad:
        site_build(outputs, site)
    assert str(target) in bad.value.line() and "invalid JSON" in bad.value.line()
    assert tree(site) == before

    data = json.loads(good)
    data["status"] = "draft"
    target.write_text(json.dumps(data))
    result = run_panel("site", "build", str(site), "-o", str(outputs), cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{target}: a draft in the published folder" in result.stderr and "Traceback" not in result.stderr
    assert tree(site) == before
    slots = tmp_path / ".site.builds"
    assert site.resolve() == slots / "a" / "site"  # still the live build
    assert (slots / "b" / "building").exists()  # the failed one is marked: the next starts it afresh


def test_nothing_published_is_one_clear_line(tmp_path: Path):
    result = run_panel("site", "build", "-o", str(tmp_path / "outputs"), cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "published: nothing is published here yet (publish a record first: `panel publish RECORD`)"
        in result.stderr
    )
    assert not (tmp_path / "site").exists()


def test_the_base_url_is_checked_and_remembered(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    bad = run_panel(
        "site", "build", str(site), "-o", str(outputs), "--base-url", "javascript:alert(1)", cwd=tmp_path
    )
    assert bad.returncode == 2 and "--base-url: 'javascript:alert(1)' is not a site address" in bad.stderr
    first = run_panel("site", "build", str(site), "-o", str(outputs), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout and "give --base-url" in first.stderr
    given = run_panel(
        "site", "build", str(site), "-o", str(outputs), "--base-url", "https://r.example/x", cwd=tmp_path
    )
    assert "start with https://r.example/x/" in given.stdout
    again = run_panel("site", "build", str(site), "-o", str(outputs), cwd=tmp_path)
    assert "start with https://r.example/x/" in again.stdout and "give --base-url" not in again.stderr
    assert "https://r.example/x/comparisons/" in (site / "sitemap.xml").read_text()


def test_a_folder_that_is_not_a_site_is_never_replaced(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="is not a site panel built"):
        site_build(outputs, site)
    assert (site / "mine.txt").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    site_build(outputs, empty)  # an empty folder is fine
    assert (empty / "index.html").is_file()


def test_a_second_build_waits_or_is_refused(outputs: Path, tmp_path: Path):
    site = tmp_path / "site"
    site_build(outputs, site)
    with Releases(site).lock(wait=False):
        refused = run_panel("site", "build", str(site), "-o", str(outputs), "--no-wait", cwd=tmp_path)
        assert refused.returncode == 2
        assert f"{site}: another build of this site is running (pid {os.getpid()})" in refused.stderr
        with pytest.raises(ConflictError):
            site_build(outputs, site, wait=False)
        exe, env = panel_command()
        waiting = subprocess.Popen(
            [exe, "site", "build", str(site), "-o", str(outputs)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting for another build of" in err and "Built" in out


def test_kill_9_in_the_middle_of_a_build_leaves_the_previous_site_whole(tmp_path: Path):
    root = tmp_path / "outputs"
    tools = [panel(f"Tool {i:03d}", category=f"Group {i % 5}") for i in range(120)]
    for i in range(0, 120, 2):
        write_published(root, Comparison(panels=[tools[i], tools[i + 1]]), at=SITE_AT)
    site = tmp_path / "site"
    site_build(root, site)
    before = tree(site)
    current = site.resolve()

    exe, env = panel_command()
    # Another base URL: every page is rebuilt, which takes long enough to be caught in the middle.
    proc = subprocess.Popen(
        [exe, "site", "build", str(site), "-o", str(root), "--base-url", "https://other.example/"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    other = tmp_path / ".site.builds" / "b"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # Every page is rebuilt (another base URL): kill it once it has rewritten twenty.
        if sum(1 for p in (other / "site").rglob("*.html") if "other.example" in p.read_text()) >= 20:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the build never got going")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert site.resolve() == current and tree(site) == before  # the previous site, whole
    assert (other / "building").exists()  # the killed build's slot is marked as unfinished...

    report = site_build(root, site, base_url="https://other.example/")  # the same command again
    assert site.resolve() == other / "site" and not (other / "building").exists()  # ...and built afresh
    assert report.records == 60 and report.full  # type: ignore[attr-defined]
    assert all("other.example" in p.read_text() for p in site.rglob("*.html"))


def test_a_hand_edited_published_record_is_built_with_a_warning(outputs: Path, tmp_path: Path):
    target = outputs / "published" / f"{CRON}.json"
    data = json.loads(target.read_text())
    data["panels"][0]["tool"]["tagline"] = "Edited after publication"
    target.write_text(json.dumps(data))
    result = run_panel("site", "build", str(tmp_path / "site"), "-o", str(outputs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"panel: warning: {target}: edited by hand after it was published" in result.stderr
    assert "Edited after publication" in (tmp_path / "site" / "tools" / "cronwright.html").read_text()


def test_a_record_under_another_name_is_refused(outputs: Path, tmp_path: Path):
    source = outputs / "published" / f"{CRON}.json"
    copy = outputs / "published" / "copy.json"
    write_record(copy, load_record(source, Comparison).record)
    with pytest.raises(InputError, match=r"published as cronwright-vs-ticklane\.json"):
        site_build(outputs, tmp_path / "site")


def test_panels_published_alone_get_a_tool_page(tmp_path: Path):
    root = tmp_path / "outputs"
    write_published(root, panel("Inkwell", category="Writing"), at=SITE_AT)
    write_comparison(root, panel("Quillstack"), panel("Ledgerlight"))  # drafts: not on the site
    site = tmp_path / "site"
    site_build(root, site)
    assert (
        set(inodes(site))
        == {
            "tools/inkwell.html",
            "api/tools/inkwell.json",
            "categories/writing.html",
            "api/categories/writing.json",
            "feeds/writing.xml",
            "assets/site.css",
        }
        | INDEXES
    )
    page = (site / "tools/inkwell.html").read_text()
    assert "Not in a published comparison yet." in page and "the published panel of Inkwell" in page


def test_every_incremental_build_is_the_same_as_a_build_from_scratch(tmp_path: Path):
    """The dependency rules miss nothing: after each kind of change, the site built incrementally
    (in its two slots, turn about) has exactly the files and bytes of a site built afresh."""
    root = tmp_path / "outputs"
    quill, ledger = (
        panel("Quillstack", category="Docs"),
        panel("Ledgerlight", (40, 45, 62, 30), category="Billing"),
    )
    ink, meter = panel("Inkwell", category="Docs"), panel("Meterly", (70, 75, 60, 80), category="Billing")
    write_published(root, Comparison(panels=[quill, ledger]), at=SITE_AT)
    write_published(root, Comparison(panels=[quill, ink]), at=SITE_AT + timedelta(hours=1))
    write_published(root, Comparison(panels=[ledger, meter]), at=SITE_AT + timedelta(hours=2))
    site = tmp_path / "site"
    site_build(root, site)

    def published(name: str) -> Comparison:
        return load_record(root / "published" / f"{name}.json", Comparison).record

    def edit(p: object, **tool: str) -> object:
        scores = {"reviews": [p.reviews[0].model_copy(update={"score": 99}), *p.reviews[1:]]}  # type: ignore[attr-defined]
        return p.model_copy(update={**scores, "tool": p.tool.model_copy(update=tool)})  # type: ignore[attr-defined]

    later = SITE_AT + timedelta(days=1)
    steps = [
        # a shared tool reviewed again: its other comparison notes it, its category's shares move
        lambda: write_published(
            root,
            published("quillstack-vs-inkwell").model_copy(update={"panels": [edit(quill), ink]}),
            at=later,
        ),
        # a new comparison, a new tool, a new category
        lambda: write_published(
            root, Comparison(panels=[meter, panel("Nib", category="Writing")]), at=later + timedelta(hours=1)
        ),
        # a tool moves to another category
        lambda: write_published(
            root,
            published("ledgerlight-vs-meterly").model_copy(
                update={"panels": [ledger, edit(meter, category="Docs")]}
            ),
            at=later + timedelta(hours=2),
        ),
        # a comparison unpublished: Inkwell is in no record any more
        lambda: (root / "published" / "quillstack-vs-inkwell.json").unlink(),
        # a panel published on its own, and votes imported into a republished comparison
        lambda: write_published(root, panel("Slate", category="Writing"), at=later + timedelta(hours=3)),
        lambda: write_published(
            root,
            votes.set_votes(published("quillstack-vs-ledgerlight"), "Quillstack", 9, 2, "erin"),
            at=later + timedelta(hours=4),
        ),
    ]
    for number, step in enumerate(steps):
        step()
        report = site_build(root, site)
        assert not report.full  # type: ignore[attr-defined]
        fresh = tmp_path / f"fresh-{number}"
        site_build(root, fresh)
        assert tree(site) == tree(fresh), number
