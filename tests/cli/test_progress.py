"""What a person sees while the model works: a line per review and a heartbeat in a pipe, a bar
that moves per review on a terminal, and the first bad rows of a batch named on screen."""

from __future__ import annotations

import io
import time

from rich.console import Console

from panel.cli.progress import BatchProgress, ProgressEvents
from panel.records import Tool

TOOL = Tool(name="Quillstack", description="Docs from code.")


def piped() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_in_a_pipe_a_line_per_review_and_a_status_line_while_none_finishes():
    console, out = piped()
    events = ProgressEvents(console, every=2.0)
    events.planned(4, 0)
    time.sleep(2.6)  # nothing finished: the heartbeat speaks anyway
    assert "0/4 reviews · working for" in out.getvalue()
    events.reviewed(TOOL, "builder", True, "70/100 · ship")
    events.reviewed(TOOL, "skeptic", False, "the reply hit the token limit twice")
    events.stop()
    lines = out.getvalue().splitlines()
    assert lines[-2].startswith("[1/4] Quillstack · builder: ok · 70/100 · ship")
    assert lines[-1].startswith("[2/4] Quillstack · skeptic: FAILED") and "(1 failed)" in lines[-1]
    assert "reviews/min" in lines[-1] and "ETA" in lines[-1]  # a rate once two reviews are done
    time.sleep(2.6)
    assert out.getvalue().splitlines() == lines  # stopped: no more lines


def test_on_a_terminal_the_bar_advances_per_finished_review():
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    events = ProgressEvents(console)
    events.planned(4, 0)
    events.planned(4, 0)  # the second tool adds to the total
    assert events.progress is not None and events.task is not None
    task = events.progress.tasks[0]
    assert task.total == 8 and task.completed == 0
    events.reviewed(TOOL, "builder", True, "")
    events.reviewed(TOOL, "skeptic", True, "")
    assert task.completed == 2
    events.stop()


def test_batch_names_the_first_bad_rows_and_then_points_to_the_file():
    console, out = piped()
    progress = BatchProgress(10, console, every=60)
    for n in range(1, 8):
        progress.bad_row(f"line {n}", f"Tool {n}", "description: required field is missing")
    progress.stop()
    text = out.getvalue()
    assert "bad row, line 1 (Tool 1): description: required field is missing" in text
    assert "line 5 (Tool 5)" in text and "line 6 (Tool 6)" not in text
    assert "every one is listed in the run's errors.jsonl" in text
