"""Every fetched body, stored content-addressed under outputs/evidence/, with what the fetch said.

    evidence/<aa>/<sha256>           the body, as received (decompressed), written once
    evidence/<aa>/<sha256>.json      the fetch that first stored it: URL, final URL, status,
                                     content type, time, ETag, Last-Modified, SHA-256
    evidence/urls/<aa>/<key>.json    the latest fetch of one address, for conditional requests

A source names its snapshot as `sha256:<hex>`; the body is the evidence a claim was checked
against, kept however the page changes later. Writes are atomic; a body is written before any
record points at it, so a crash never leaves a dangling reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from panel.core.files import atomic_write
from panel.core.loading import parse_text, read_text
from panel.errors import InputError
from panel.intake.fetcher import Response, Validators
from panel.records import Record

EVIDENCE = "evidence"
_HEX = r"^[0-9a-f]{64}$"


class Snapshot(Record):
    """One stored body and the fetch that brought it."""

    url: str
    final_url: str
    status: int
    content_type: str
    charset: str = ""
    fetched_at: datetime
    etag: str = ""
    last_modified: str = ""
    sha256: Annotated[str, Field(pattern=_HEX)]
    size: int

    @property
    def id(self) -> str:
        """What a source's `snapshot` field holds."""
        return f"sha256:{self.sha256}"

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


def sha256_of(snapshot_id: str) -> str | None:
    """The hex digest a `sha256:<hex>` id names, or None for anything else."""
    digest = snapshot_id.removeprefix("sha256:")
    return digest if snapshot_id.startswith("sha256:") and len(digest) == 64 else None


@dataclass(frozen=True)
class Snapshots:
    """The evidence folder of one outputs folder."""

    root: Path  # outputs/evidence

    @classmethod
    def under(cls, outputs: Path) -> Snapshots:
        return cls(outputs / EVIDENCE)

    def _body_path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def _url_path(self, url: str) -> Path:
        key = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
        return self.root / "urls" / key[:2] / f"{key}.json"

    def save(self, response: Response) -> Snapshot:
        """Store a 200 response's body (once per content) and make it the address's latest."""
        assert response.body is not None
        sha = hashlib.sha256(response.body).hexdigest()
        snapshot = Snapshot(
            url=response.url,
            final_url=response.final_url,
            status=response.status,
            content_type=response.content_type,
            charset=response.charset,
            fetched_at=response.fetched_at,
            etag=response.etag,
            last_modified=response.last_modified,
            sha256=sha,
            size=len(response.body),
        )
        body = self._body_path(sha)
        if not body.exists():
            atomic_write(body, response.body)
        meta = body.with_name(f"{sha}.json")
        if not meta.exists():
            atomic_write(meta, _dump(snapshot))
        atomic_write(self._url_path(response.url), _dump(snapshot))
        return snapshot

    def latest(self, url: str) -> Snapshot | None:
        """The last stored fetch of `url` whose body is still here; None otherwise (a damaged
        file counts as none: the next fetch is simply unconditional)."""
        path = self._url_path(url)
        if not path.exists():
            return None
        snapshot = _load(path)
        if snapshot is None or snapshot.url != url or not self._body_path(snapshot.sha256).exists():
            return None
        return snapshot

    def body(self, snapshot: Snapshot) -> bytes:
        return self._body_path(snapshot.sha256).read_bytes()

    def find(self, snapshot_id: str) -> Snapshot | None:
        """The stored snapshot a source names, with the fetch that first stored it."""
        sha = sha256_of(snapshot_id)
        if sha is None:
            return None
        meta = self._body_path(sha).with_name(f"{sha}.json")
        return _load(meta) if meta.exists() and self._body_path(sha).exists() else None


def _dump(snapshot: Snapshot) -> bytes:
    return (snapshot.model_dump_json(indent=2) + "\n").encode()


def _load(path: Path) -> Snapshot | None:
    try:
        return Snapshot.model_validate(parse_text(read_text(path), path))
    except (InputError, ValidationError):
        return None
