"""Progress on long feeds: a status line at least every so often on stderr, with a count, a rate
and the time left, while entries are taken in."""

from __future__ import annotations

import io
import time

from rich.console import Console

from panel.cli.progress import IntakeProgress


def test_a_status_line_comes_while_a_feed_is_taken_in():
    out = io.StringIO()
    progress = IntakeProgress(Console(file=out, width=200), every=1.0)
    try:
        progress(3, 10)
        time.sleep(1.3)
    finally:
        progress.stop()
    line = out.getvalue().strip().splitlines()[0]
    assert "3 of 10 entries" in line and "entries/s" in line and "left" in line


def test_no_line_once_the_feed_is_done():
    out = io.StringIO()
    progress = IntakeProgress(Console(file=out, width=200), every=1.0)
    try:
        progress(10, 10)
        time.sleep(1.3)
    finally:
        progress.stop()
    assert out.getvalue() == ""
