"""Intake on real vendor material: the shared corpus of eleven projects' own pages
(../shared/intake-corpus), served on loopback and read at run time. Skipped where the corpus is
absent (CI may not have it); tests/data/intake covers the same behaviour with pages of our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.inputs.toolfiles import load_tool

from conftest import REPO, run_panel
from vendorsite import VendorSite

CORPUS = REPO.parent / "shared" / "intake-corpus"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "site" / "feed.atom").exists(), reason=f"the shared intake corpus is not at {CORPUS}"
)


def test_the_real_feed_is_taken_in_with_license_pages_and_pypi_facts(workdir: Path):
    site = VendorSite(CORPUS / "site", CORPUS / "registry").start()
    try:
        result = run_panel(
            "intake", "--feed", f"{site.url}/feed.json", "--allow-host", site.host, "--delay", "0",
            cwd=workdir, env=site.env(),
        )  # fmt: skip
    finally:
        site.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    tools = {t.name: t for t in (load_tool(p) for p in (workdir / "tools").glob("*.yaml"))}
    assert len(tools) == 11
    assert all(any(s.title == "License page" for s in t.sources) for t in tools.values())
    packages = [p.name for p in (CORPUS / "registry" / "pypi").iterdir()]
    for tool in tools.values():
        pypi = [s for s in tool.sources if s.reader == "pypi"]
        if tool.name.lower() in packages:
            assert pypi and "Latest version" in pypi[0].text
    for tool in tools.values():  # every source names where and when it was read
        assert all(
            s.url.startswith("http://127.0.0.1:") and s.fetched_at and s.snapshot for s in tool.sources
        )
