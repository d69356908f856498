"""A built site swapped in whole: OUT is a symbolic link to the current build's folder.

Each build writes a new folder under `.OUT.builds/` beside OUT: the files that changed are
written fresh, the rest are hard links to the previous build's (no copy, no change to the live
files). When it is complete and on disk, a new link replaces OUT in one rename, so a web server
serving OUT sees the old site or the new one, never half of each; `kill -9` at any moment leaves
the previous site whole, and the next build clears the unfinished folder away. One build at a
time per OUT: a lock file (flock, dropped by the kernel when its holder dies) makes a second
wait, or refuses it.

Static hosts take the folder's contents: `rsync -a site/ host:dir/` (the trailing slash follows
the link), `cp -rL site/ dir/`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from panel.errors import ConflictError, InputError

MANIFEST = "manifest.sqlite3"


@dataclass(frozen=True)
class Release:
    """One build: `site/` (what is served) and the manifest that describes it."""

    folder: Path

    @property
    def site(self) -> Path:
        return self.folder / "site"

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST


def write_fresh(path: Path, data: bytes) -> None:
    """Write a file in a build folder nobody serves yet. Not `core.files.atomic_write`: the
    whole folder is swapped in at once, which is the atomic step (`commit` flushes it to disk
    first), and nothing may listen to these files as if they were records."""
    with path.open("xb") as handle:
        handle.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Releases:
    """The builds of one site folder, OUT."""

    def __init__(self, out: Path):
        self.out = Path.cwd() / out  # absolute, but not resolved: OUT itself is a link
        self.home = self.out.parent / f".{self.out.name}.builds"

    def current(self) -> Release | None:
        """The build OUT links to; None before the first. A folder or file at OUT that no build
        made is refused rather than replaced (unless it is an empty folder)."""
        if self.out.is_symlink():
            target = Path(os.path.normpath(self.out.parent / self.out.readlink()))
            if target.parent.parent == self.home and target.name == "site" and target.is_dir():
                return Release(target.parent)
            raise InputError(
                f"links to {target}, which is not a build of panel site",
                where=self.out,
                hint="remove the link or choose another folder",
            )
        if not self.out.exists():
            return None
        if self.out.is_dir() and not any(self.out.iterdir()):
            return None
        raise InputError(
            "is not a site panel built (a site folder is a link to its current build)",
            where=self.out,
            hint="choose another folder, or move this one away",
        )

    @contextlib.contextmanager
    def lock(self, wait: bool, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the site's build lock. Another build holding it: wait (telling `waiting` once),
        or refuse with ConflictError."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                if not wait:
                    raise ConflictError(
                        f"another build of this site is running (pid {holder})",
                        where=self.out,
                        hint="wait for it to finish, or leave out --no-wait to wait for it",
                    ) from None
                if waiting is not None:
                    waiting(f"waiting for another build of {self.out} (pid {holder}) to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)

    def begin(self) -> Release:
        """A new, empty build folder; unfinished ones (a killed build's) are cleared first. Call
        with the lock held."""
        current = self.current()
        for stale in self.home.iterdir():
            if stale.is_dir() and (current is None or stale != current.folder):
                shutil.rmtree(stale, ignore_errors=True)
        release = Release(self.home / f"b{time.time_ns():x}-{os.getpid()}")
        release.site.mkdir(parents=True)
        return release

    def commit(self, release: Release) -> None:
        """Swap `release` in as OUT in one rename, then remove the build it replaced. Everything
        written is flushed to disk first, in one sync rather than one per file (a full build
        writes tens of thousands), so a power cut after the swap finds the new site whole."""
        previous = self.current()
        os.sync()
        link = self.home / f".link-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(release.site, self.out.parent))
        if self.out.is_dir() and not self.out.is_symlink():
            self.out.rmdir()  # an empty folder stood there (current() refuses any other)
        try:
            os.replace(link, self.out)
        except OSError as exc:
            link.unlink(missing_ok=True)
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
                raise InputError("a folder appeared here during the build", where=self.out) from None
            raise
        _fsync_dir(self.out.parent)
        if previous is not None:
            shutil.rmtree(previous.folder, ignore_errors=True)

    def discard(self, release: Release) -> None:
        shutil.rmtree(release.folder, ignore_errors=True)
