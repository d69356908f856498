"""A worker thread that yields the CPU: finished work waits for spare cycles, the engine does not.

A nightly batch often shares its machine with the vLLM server it feeds. Grounding and writing a
finished panel is the client's one CPU-heavy step; run at the process's own priority, it takes
cycles from the server's scheduler and front end, and every request in flight waits. Linux sets
niceness per thread, so only the writer is lowered: the thread that sends requests and reads
replies keeps its priority. Elsewhere the call fails and the thread runs as before.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

# Enough that the server wins a contended core (weight 110 against 1024), not so much that the
# writer starves: a 20 ms panel then takes about 200 ms to write on a core the server keeps busy.
WRITER_NICENESS = 10


def thread_niceness() -> int | None:
    """The calling thread's niceness, or None where that cannot be read."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (OSError, AttributeError):
        return None


def lower_this_thread(by: int = WRITER_NICENESS) -> None:
    """Raise the calling thread's niceness by `by` (a no-op where threads have no niceness)."""
    mine = thread_niceness()
    if mine is not None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), mine + by)


def yielding_executor(workers: int = 2, name: str = "panel-writer") -> ThreadPoolExecutor:
    """Threads at a lower CPU priority than their caller's, for work nobody waits on at once."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=lower_this_thread)
