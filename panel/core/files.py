"""Atomic writes, and the listeners told of each one.

Every file panel writes goes through `atomic_write`: a temp file in the same folder, fsync,
rename. Listeners registered here hear of every JSON file written, which is how the record index
keeps in step without the store knowing it exists: the entry points (`panel.cli`, the desk, the
test fixtures) register it. Kept free of pydantic so that registering costs `panel --help`
nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once, while importing is single-threaded: os.umask can only be read by setting it.
_UMASK = _umask()


def _mode_for(path: Path) -> int:
    """The mode a plain `open(path, "w")` would leave: a replaced file keeps its own mode.

    mkstemp makes 0600 files, which a web server or a co-editor in the group could not read.
    """
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target. `mode`: the
    file's permissions (e.g. 0o600 for a file of secrets), else those `open` would give it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path) if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    if path.suffix == ".json":
        _tell_listeners(path)


WriteListener = Callable[[Path], None]
_listeners: list[WriteListener] = []


def add_write_listener(listener: WriteListener) -> None:
    """Call `listener(path)` after every JSON file this process writes (once per listener).

    The store knows nothing of what listens: the entry points (`panel.cli`, the desk, test
    fixtures) register the record index here, so a lower layer never calls up into a higher one.
    """
    if listener not in _listeners:
        _listeners.append(listener)


def remove_write_listener(listener: WriteListener) -> None:
    with contextlib.suppress(ValueError):
        _listeners.remove(listener)


def _tell_listeners(path: Path) -> None:
    """A listener's failure never fails the write, which has already succeeded."""
    for listener in list(_listeners):
        try:
            listener(path)
        except Exception as exc:  # noqa: BLE001 - the write itself succeeded
            logging.getLogger(__name__).info("write listener failed for %s: %s", path, exc)


@contextlib.contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an advisory lock (flock) on the file `lock`, waiting for it; the kernel drops it if
    the holder dies."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
