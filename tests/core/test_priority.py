"""The writer threads yield the CPU to the thread that feeds the engines (and to a model server
on the same machine)."""

from __future__ import annotations

import pytest

from panel.core.priority import WRITER_NICENESS, thread_niceness, yielding_executor


def test_a_yielding_thread_is_nicer_than_its_caller_by_the_set_step():
    mine = thread_niceness()
    if mine is None:
        pytest.skip("threads have no niceness here")
    with yielding_executor(workers=1) as pool:
        theirs = pool.submit(thread_niceness).result()
    assert theirs == min(mine + WRITER_NICENESS, 19)
    assert thread_niceness() == mine  # the caller keeps its own
