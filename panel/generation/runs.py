"""A batch run's folder: outputs/runs/<run-id>/ with manifest.json and errors.jsonl."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from panel.core.files import atomic_write
from panel.errors import InputError
from panel.records import utcnow
from panel.records.store import Outputs

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class RunCounts(BaseModel):
    rows: int = 0
    bad_rows: int = 0
    tools: int = 0
    panels_written: int = 0
    panels_unchanged: int = 0
    panels_kept_edited: int = 0
    panels_busy: int = 0  # being reviewed by another run at the time; that run writes them
    panels_with_failures: int = 0
    reviews_generated: int = 0
    reviews_reused: int = 0
    reviews_failed: int = 0


class RunManifest(BaseModel):
    """What a batch run did. Rewritten atomically while it runs and once more at the end."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["run"] = "run"
    run_id: str
    status: Literal["running", "complete", "interrupted", "aborted"] = "running"
    feed: str
    feed_format: str
    profile: str
    model: str
    engine: str
    jury: str | None = Field(default=None, description="The jury of the first persona, if one judged it.")
    concurrency: int
    personas: list[str]
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    wall_s: float = 0.0
    generation_s: float = Field(
        default=0.0, description="From the first model request to the last reply (engine start excluded)."
    )
    counts: RunCounts = Field(default_factory=RunCounts)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completion_tokens_per_s: float = 0.0
    requests_sent: int = 0
    message: str = ""


def new_run_id(feed: Path) -> str:
    """Time, feed name and a short random part: two runs started in the same second differ."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", feed.stem or "feed").strip("-")[:40] or "feed"
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{stem}-{secrets.token_hex(2)}"


class RunFolder:
    def __init__(self, outputs: Outputs, run_id: str):
        if not RUN_ID.match(run_id) or run_id in (".", ".."):
            raise InputError(
                f"run id {run_id!r} is not usable as a folder name",
                where="--run-id",
                hint="use letters, digits, '.', '_' and '-' (at most 80)",
            )
        self.path = outputs.root / "runs" / run_id
        self.manifest_path = self.path / "manifest.json"
        self.errors_path = self.path / "errors.jsonl"
        self._errors_fd: int | None = None
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Start this invocation's errors.jsonl afresh (bad rows are found again on a re-run)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._errors_fd = os.open(
            self.errors_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644
        )

    def error(
        self,
        *,
        where: str,
        tool: str | None,
        reason: str,
        persona: str | None = None,
        diagnosis: str | None = None,
    ) -> None:
        """One JSON line per failed row or review, written with a single write() so that a kill
        can never leave half a line."""
        record: dict[str, object] = {}
        if where.startswith("line "):
            record["line"] = int(where.split()[1])
        else:
            record["file"] = where
        record.update({"tool": tool, "persona": persona, "reason": reason})
        if diagnosis is not None:
            record["diagnosis"] = diagnosis
        assert self._errors_fd is not None
        os.write(self._errors_fd, (json.dumps(record, ensure_ascii=False) + "\n").encode())

    def write_manifest(self, manifest: RunManifest) -> None:
        atomic_write(self.manifest_path, (manifest.model_dump_json(indent=2) + "\n").encode())

    def close(self) -> None:
        if self._errors_fd is not None:
            os.close(self._errors_fd)
            self._errors_fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None
