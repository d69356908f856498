"""Debian's chromium, headless, for the tests that look at pages in a real browser."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def chromium_path() -> str:
    """chromium on PATH; a skip (or, with PANEL_REQUIRE_BROWSER=1, a failure) where it is missing."""
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("PANEL_REQUIRE_BROWSER") == "1":
            pytest.fail("PANEL_REQUIRE_BROWSER=1 but `chromium` is not on PATH (apt-get install chromium)")
        pytest.skip(
            "chromium is not installed (apt-get install chromium); set PANEL_REQUIRE_BROWSER=1 to fail"
        )
    return exe
