"""Which feed entries were taken in, so the next run skips them: outputs/intake/taken.jsonl.

One line per entry, appended and fsynced once its tool file is written. Appending keeps a long
feed's state O(1) per entry (rewriting one file per entry would be O(n) each); a run killed
mid-line leaves at most a torn last line, which is ignored, so that entry is simply taken in
again. Entries are known per feed (by the feed's address or file), by id, else by link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from panel.records import utcnow

STATE_DIR = "intake"
TAKEN = "taken.jsonl"


class Taken:
    """The entries of one feed already taken in."""

    def __init__(self, outputs: Path, feed: str) -> None:
        self.path = outputs / STATE_DIR / TAKEN
        self.feed = feed
        self.keys = self._load()

    def _load(self) -> set[str]:
        keys: set[str] = set()
        if not self.path.exists():
            return keys
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue  # a torn last line from a killed run
                if (
                    isinstance(line, dict)
                    and line.get("feed") == self.feed
                    and isinstance(line.get("key"), str)
                ):
                    keys.add(line["key"])
        return keys

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str, file: Path) -> None:
        """Record the entry as taken in, durably, once its tool file is on disk."""
        line = {"feed": self.feed, "key": key, "file": str(file), "at": utcnow().isoformat()}
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # end a torn line first, so this one stands on its own
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.keys.add(key)
