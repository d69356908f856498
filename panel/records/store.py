"""The outputs/ layout, safe file names, atomic writes, and spotting records a person edited.

Every record is written with a checksum of its own content. When the file on disk no longer
matches its checksum, a person changed it, and the pipeline leaves it alone unless forced.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from panel.core.files import atomic_write, exclusive
from panel.core.loading import describe_validation_error, parse_text, read_text
from panel.errors import ConflictError, InputError
from panel.records.panel import Comparison, ToolPanel, panels_of

OUTPUTS_ENV = "PANEL_OUTPUTS"
MAX_RECORD_BYTES = 20_000_000  # a record file larger than this is refused, not read
SLUG_MAX = 60
_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
_CLEAN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
M = TypeVar("M", bound=BaseModel)


def slugify(name: str) -> str:
    """A file-name-safe slug for any tool name: never empty, never a path, at most ~70 chars.

    Clean names map to themselves (lower-cased). Anything that had to change (non-ASCII,
    punctuation, path tricks, length, reserved device names) gets a short hash of the original
    name appended, so two different names never share a slug.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if base == name.lower() and _CLEAN.fullmatch(base) and base not in _RESERVED:
        return base
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{base}-{digest}" if base else f"tool-{digest}"


def outputs_root(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    return Path(os.environ.get(OUTPUTS_ENV) or Path.cwd() / "outputs")


@dataclass(frozen=True)
class Outputs:
    root: Path

    @property
    def panels(self) -> Path:
        return self.root / "panels"

    @property
    def comparisons(self) -> Path:
        return self.root / "comparisons"

    def panel_path(self, tool_name: str) -> Path:
        return self._inside(self.panels / f"{slugify(tool_name)}.json")

    def comparison_path(self, tool_names: list[str]) -> Path:
        stem = "-vs-".join(slugify(n) for n in tool_names)
        if len(stem) > 200:
            tail = _digest_text("|".join(tool_names))[:8]
            stem = f"{slugify(tool_names[0])}-vs-{len(tool_names) - 1}-more-{tail}"
        return self._inside(self.comparisons / f"{stem}.json")

    @functools.cached_property
    def _resolved_root(self) -> Path:
        return self.root.resolve()  # once: a batch asks for thousands of paths

    def _inside(self, path: Path) -> Path:
        """Belt and braces: whatever slugify returns, the path stays under the outputs root."""
        root = self._resolved_root
        resolved = path.resolve()
        if root not in resolved.parents:
            raise InputError(f"refusing to write outside {root}", where=path)
        return path


def _digest_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def checksum(data: dict[str, Any]) -> str:
    """Digest of a record's content, excluding its own checksum field."""
    body = {k: v for k, v in data.items() if k != "checksum"}
    return "sha256:" + _digest_text(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    )


def dump_record(record: BaseModel) -> bytes:
    data = record.model_dump(mode="json")
    data["checksum"] = checksum(data)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temp_files(root: Path, also: Iterable[Path] = ()) -> int:
    """Remove temp files left by a process that was killed between write and rename, in the
    outputs folder's record and run folders and in the folders `also` names (a folder of tool
    files `panel intake` writes, say).

    Their names carry the writer's PID; files of processes still running are left alone, so
    two runs can share one outputs folder.
    """
    removed = 0
    for directory in (root / "panels", root / "comparisons", *root.glob("runs/*"), *also):
        if not directory.is_dir():
            continue
        for tmp in directory.glob(".*.tmp"):
            parts = tmp.name.split(".")
            pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
            if pid is None or not _alive(pid):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


class ToolLocks:
    """Per-tool advisory locks (flock), so two runs sharing an outputs folder never review the
    same tool at the same time. The kernel drops a lock when its process dies, kill -9 included,
    so a crash never leaves a tool locked. Lock files live in the system's temp folder, one
    folder per outputs folder, so a command that ends in an error has written nothing under
    outputs/, and each is removed by its holder on release (the inode check in `acquire` makes
    that safe against a process that opened the file just before it went)."""

    def __init__(self, root: Path):
        self.dir = _lock_dir(root)
        self.held: dict[Path, tuple[int, Path]] = {}

    def acquire(self, panel_path: Path, wait: bool) -> bool:
        self.dir.mkdir(parents=True, exist_ok=True)
        lock = self.dir / f"{panel_path.stem}.lock"
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                if os.fstat(fd).st_ino == lock.stat().st_ino:
                    self.held[panel_path] = (fd, lock)
                    return True
            except FileNotFoundError:
                pass
            os.close(fd)  # its holder removed it while we waited: lock the current file instead

    def release(self, panel_path: Path) -> None:
        held = self.held.pop(panel_path, None)
        if held is not None:
            fd, lock = held
            lock.unlink(missing_ok=True)  # while still holding it; see acquire
            os.close(fd)

    def release_all(self) -> None:
        for path in list(self.held):
            self.release(path)


@dataclass(frozen=True)
class Loaded(Generic[M]):
    record: M
    edited: bool  # the file differs from what panel last wrote


RECORD_KINDS: dict[str, type[ToolPanel] | type[Comparison]] = {"panel": ToolPanel, "comparison": Comparison}
"""Each record file's `kind`, and the model that reads it."""


def _read_object(path: Path) -> dict[str, Any]:
    text = read_text(path, max_bytes=MAX_RECORD_BYTES)
    try:
        data = parse_text(text, path.with_suffix(".json"))  # strict: no NaN, no duplicate keys
    except InputError as exc:
        raise InputError(
            exc.problem, where=path, hint="fix the file or move it away; panel will not overwrite it"
        ) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", where=path)
    return data


def _validated(path: Path, data: dict[str, Any], model: type[M]) -> Loaded[M]:
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            describe_validation_error(exc), where=path, hint="run `panel validate` on it for every problem"
        ) from None
    return Loaded(record=record, edited=data.get("checksum") != checksum(data))


def load_record(path: Path, model: type[M]) -> Loaded[M]:
    return _validated(path, _read_object(path), model)


def load_any_record(path: Path) -> Loaded[ToolPanel | Comparison]:
    """A panel or a comparison, whichever the file's `kind` says."""
    data = _read_object(path)
    model = RECORD_KINDS.get(data.get("kind"))  # type: ignore[arg-type]
    if model is None:
        raise InputError(
            f"unknown record kind {data.get('kind')!r}",
            where=path,
            hint="records have kind 'panel' or 'comparison'",
        )
    return _validated(path, data, model)


def write_record(path: Path, record: BaseModel) -> None:
    atomic_write(path, dump_record(record))


def file_version(path: Path) -> str | None:
    """What a reader saw: a digest of the file's bytes (None when there is no file). Any change
    to the file, by panel or by hand, gives a new version."""
    try:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _lock_dir(root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"panel-locks-{os.getuid()}" / key


@contextlib.contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """A short lock around read-compare-write of one record, shared by every process on this
    machine (CLI, desk, batch). Held for milliseconds, never while a model works."""
    lock_dir = _lock_dir(path.parent)
    lock_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(lock_dir / f"{path.name}.write.lock"):
        yield


def write_record_if(path: Path, record: BaseModel, expect: str | None) -> None:
    """Write `record` only if the file is still the version the writer read (`expect`, from
    `file_version`; None: the file must not exist yet). Otherwise raise ConflictError and write
    nothing: a person's edit is never overwritten by a save based on an older copy."""
    with write_lock(path):
        if file_version(path) != expect:
            raise ConflictError(
                "changed on disk since it was opened (another reviewer, the desk or a panel run saved it)",
                where=path,
                hint="nothing was written; open it again and re-apply your change",
            )
        write_record(path, record)


def published_slug(record: ToolPanel | Comparison) -> str:
    """The file name a record is published under: its tools' slugs, joined by -vs-."""
    return "-vs-".join(slugify(p.tool.name) for p in panels_of(record))
