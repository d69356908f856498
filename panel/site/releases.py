"""A built site swapped in whole: OUT is a symbolic link to one of two build folders.

`.OUT.builds/` beside OUT holds two slots, `a` and `b`, each a whole site (`site/`) with the
manifest that describes it. OUT links to the live one; a build works on the other. It first makes
that slot the same as the live one (linking in the files that differ: hard links, the live files
untouched), then changes only what the build changed, each file replaced by a rename of a new one
(never written in place, so a file the live slot shares is never touched). When the slot is
complete and on disk, a new link replaces OUT in one rename: a web server serving OUT sees the
old site or the new one, never half of each. `kill -9` at any moment leaves the live site whole;
the unfinished slot is marked, and the next build starts it afresh from the live one. One build at
a time per OUT: a lock file (flock, dropped by the kernel when its holder dies) makes a second
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from panel.errors import ConflictError, InputError

MANIFEST = "manifest.sqlite3"
BUILDING = "building"  # in a slot being changed: its files and manifest may disagree
SLOTS = ("a", "b")
FSYNC_ONE_BY_ONE = 500  # past this many files written, one sync of everything is quicker


@dataclass(frozen=True)
class Release:
    """One slot: `site/` (what is served) and the manifest that describes it."""

    folder: Path

    @property
    def site(self) -> Path:
        return self.folder / "site"

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    @property
    def whole(self) -> bool:
        """Its files and manifest agree: no build was cut short in it."""
        return self.manifest.is_file() and not (self.folder / BUILDING).exists()


def replace_file(path: Path, data: bytes) -> None:
    """Put new bytes at `path` in a slot nobody serves: a new file renamed over the old, so a
    hard link the live slot shares keeps its bytes. Not `core.files.atomic_write`: the whole
    slot is swapped in at once, which is the atomic step (`commit` flushes it to disk first), and
    nothing may listen to these files as if they were records."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def replace_with_link(source: Path, path: Path) -> None:
    """`path` becomes another name of `source` (a file of the live slot), replacing what was there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.link(source, tmp)
    os.replace(tmp, path)


def link_tree(source: str, target: str) -> None:
    """`target` as a copy of the folder `source` made of hard links (no file's bytes copied)."""
    Path(target).mkdir()
    with os.scandir(source) as entries:
        for entry in entries:
            here, there = f"{source}/{entry.name}", f"{target}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                link_tree(here, there)
            elif entry.is_file(follow_symlinks=False):
                os.link(here, there)


def copy_slot(live: Release, other: Release) -> None:
    """`other` as a copy of the live slot: its folders as hard links, its manifest copied."""
    for name in ("site", "fragments"):
        if (live.folder / name).is_dir():
            link_tree(str(live.folder / name), str(other.folder / name))
    shutil.copyfile(live.manifest, other.manifest)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Releases:
    """The two slots of one site folder, OUT."""

    def __init__(self, out: Path):
        self.out = Path.cwd() / out  # absolute, but not resolved: OUT itself is a link
        self.home = self.out.parent / f".{self.out.name}.builds"

    def current(self) -> Release | None:
        """The slot OUT links to; None before the first build. A folder or file at OUT that no
        build made is refused rather than replaced (unless it is an empty folder)."""
        if self.out.is_symlink():
            target = Path(os.path.normpath(self.out.parent / self.out.readlink()))
            if target.parent.parent == self.home and target.name == "site" and target.parent.name in SLOTS:
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

    def _other(self, live: Release | None) -> Release:
        return Release(self.home / (SLOTS[1] if live and live.folder.name == SLOTS[0] else SLOTS[0]))

    @staticmethod
    def _start_afresh(slot: Release, live: Release | None) -> None:
        """`slot` emptied and marked as being built, then a copy of the live slot (if any)."""
        if slot.folder.exists():
            shutil.rmtree(slot.folder)
        slot.folder.mkdir(parents=True)
        (slot.folder / BUILDING).touch()
        if live is not None:
            copy_slot(live, slot)
        else:
            slot.site.mkdir()

    def begin(self) -> tuple[Release | None, Release, bool]:
        """The live slot, the slot to build in (marked as being built), and whether that slot
        holds a whole earlier build of its own (to catch up from the manifests) rather than a
        fresh copy of the live one or nothing. Call with the lock held."""
        live = self.current()
        slot = self._other(live)
        whole = slot.whole and live is not None
        if whole:
            (slot.folder / BUILDING).touch()
        else:  # cut short, or from before the live one: start afresh
            self._start_afresh(slot, live)
        _fsync_dir(slot.folder)
        return live, slot, whole

    def prepare_other(self) -> None:
        """After a full build: make the other slot a copy of the live one now (hard links, one
        pass over the files), so the next build only changes what its records change."""
        live = self.current()
        if live is not None:
            slot = self._other(live)
            self._start_afresh(slot, live)
            (slot.folder / BUILDING).unlink()

    def commit(self, release: Release, written: list[Path] | None = None) -> None:
        """Swap `release` in as OUT in one rename. What was written is flushed to disk first, so a
        power cut after the swap finds the new site whole: the `written` files and their folders
        one by one, or (None, or too many to do one by one) everything, in one sync."""
        if written is None or len(written) > FSYNC_ONE_BY_ONE:
            os.sync()
        else:
            for path in written:
                _fsync(path)
            for folder in {p.parent for p in written}:
                _fsync(folder)
        (release.folder / BUILDING).unlink()
        _fsync_dir(release.folder)
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
