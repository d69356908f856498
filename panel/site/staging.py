"""The files of one build, in the slot being built (see `releases`), and its manifest's rows.

Each output is put with the digest of its inputs: the same digest as the manifest has, and the
file is left as it is; otherwise it is made, and written only when its bytes changed, as a new
file renamed into place. What no longer exists is dropped. Before a build starts, `catch_up`
makes the slot the same as the live one, from the two manifests: only the files that differ move.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from panel.site import layout
from panel.site.catalog import Catalog
from panel.site.releases import Release, replace_file, replace_with_link

LISTED = 1000  # written files named in the build's report; past that, only counted
Made = tuple[bytes, datetime | None]  # an output's bytes, and (pages) the last change it shows
T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made on first use and shared by the outputs built from it (a page and its JSON)."""

    def __init__(self, make: Callable[[], T]):
        self._make: Callable[[], T] | None = make
        self._value: T | None = None

    def get(self) -> T:
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value  # type: ignore[return-value]


class Staging:
    def __init__(self, catalog: Catalog, release: Release, flush_each: bool = True):
        self.catalog = catalog
        self.flush_each = flush_each  # keep the files written, to flush them one by one
        self.release = release
        self.folders: set[Path] = set()
        self.written: list[str] = []  # the first LISTED of the site's files written anew...
        self.written_count = 0  # ...and how many in all
        self.removed: list[str] = []
        self.files: list[Path] = []  # every file this build wrote or linked, to flush before the swap

    def _target(self, path: str) -> Path:
        target = self.release.site / path
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        return target

    def put(self, path: str, inputs: str | None, make: Callable[[], Made]) -> None:
        """Output `path`, built from inputs with digest `inputs` (None: made every time)."""
        old = self.catalog.output(path)
        target = self.release.site / path
        if inputs is not None and old is not None and old[0] == inputs and target.exists():
            return
        data, lastmod = make()
        sha = hashlib.sha256(data).hexdigest()
        if old is None or old[1] != sha or not target.exists():
            replace_file(self._target(path), data)
            if self.flush_each:
                self.files.append(target)
            if layout.served(path):
                self._wrote(path)
        self.catalog.set_output(path, inputs or "", sha, lastmod)

    def keep_file(self, path: str, data: bytes) -> None:
        """A file no record derives (a weekly digest), kept by every later build."""
        replace_file(self._target(path), data)
        self.files.append(self.release.site / path)
        self.catalog.keep(path)
        self._wrote(path)

    def _wrote(self, path: str) -> None:
        """Count it; list it while the list is short (a full build of a big site writes tens of
        thousands, and memory must not grow with the site)."""
        self.written_count += 1
        if len(self.written) < LISTED:
            self.written.append(path)

    def drop(self, path: str) -> None:
        """An output whose record is gone: its file and its row."""
        if self.catalog.has_output(path):
            (self.release.site / path).unlink(missing_ok=True)
            self.catalog.forget(path)
            if layout.served(path):
                self.removed.append(path)

    def sweep(self) -> None:
        """After a full build: remove every file the manifest does not list (kept ones stay)."""
        keep = set(self.catalog.kept())
        for folder in (self.release.site, self.release.site / layout.FRAGMENTS):
            for dirpath, _, names in os.walk(folder):
                for name in names:
                    file = Path(dirpath) / name
                    path = os.path.relpath(file, self.release.site)
                    if path not in keep and not self.catalog.has_output(path):
                        file.unlink()
                        if layout.served(path):
                            self.removed.append(path)


def catch_up(catalog: Catalog, live: Release, slot: Release) -> list[Path]:
    """Make `slot`, a whole earlier build, the same as the live one: the files whose bytes differ
    (by the manifests) become links to the live files, the ones the live build lacks go. The
    caller then copies the live manifest over the slot's. Returns the files it linked."""
    theirs, ours = catalog.differences(live.manifest)
    linked = []
    for path in theirs:
        target = slot.site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_with_link(live.site / path, target)
        linked.append(target)
    for path in ours:
        (slot.site / path).unlink(missing_ok=True)
    return linked
