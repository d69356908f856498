"""Keeping the record index in step while the desk serves.

The desk answers from the index (panel/index/database.py), never from a folder walk per request. Syncing
it (building it, on a first run over 12,000 records) takes far longer than a page may, so syncs
run in a background thread with their own connection; pages read what is committed so far
(SQLite in WAL mode lets readers and one writer share the file). Writes through panel.records.store
re-index their file at once; a sync catches the rest (hand edits, other machines), started at
start-up and again when the queue is shown and the last one is older than `every` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from panel.index.database import IndexUnavailable, RecordIndex
from panel.records import Persona

log = logging.getLogger(__name__)


class BackgroundSync:
    def __init__(
        self,
        root: Path,
        personas: Sequence[Persona],
        every: float = 15.0,
        on_first: Callable[[float], None] | None = None,
    ):
        self.root = root
        self.personas = list(personas)
        self.every = every
        self.on_first = on_first  # called with the seconds the first sync took
        self.first_done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last = 0.0
        self._stop = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def poke(self) -> None:
        """Start a sync unless one is running or the last began under `every` seconds ago."""
        with self._lock:
            if self._stop or self.running or time.monotonic() - self._last < self.every:
                return
            self._last = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="panel-desk-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            with RecordIndex(self.root, personas=self.personas, timeout=30) as index:
                index.sync()
        except (IndexUnavailable, OSError) as exc:
            log.warning("record index not synced: %s", exc)
        if not self.first_done.is_set():
            self.first_done.set()
            if self.on_first is not None:
                self.on_first(time.monotonic() - started)

    def close(self, timeout: float = 10.0) -> None:
        """Stop starting syncs and wait a little for the one running (it commits per chunk, so
        one cut short loses nothing: the next start-up carries on)."""
        with self._lock:
            self._stop = True
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
