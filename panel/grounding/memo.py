"""A small bounded memo (least recently used first out), safe across the desk's threads.

Grounding keeps its results here (panel/grounding/ground.py): one command looks at a review's
claims from several places (validation, the save, the tool's panel file, the record index's write
listener, the re-read for its output), and each of them asks for the same text against the same
material. Bounded, so a first index build of 100,000 records runs in flat memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """Values by key, the `size` most recently used kept. A value is computed outside the lock:
    two threads asking for one new key at once may both compute it (the results are equal)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a memo keeps at least one value, not {size}")
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
