"""What the queue page shows, already worded: one page of index rows, the filters and paging.
The filters come from the URL and are checked against the index's own vocabulary."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panel.editorial.render import clean

from .views import ACTIONS, FLAGS, KINDS, SORTS, STATUSES, when

PAGE_SIZE = 50


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class QueueRowView:
    title: str
    url: str
    kind: str
    status: str
    status_label: str
    flags: list[str]
    revision: int
    last_change: str
    claims: str


@dataclass(frozen=True)
class QueueView:
    rows: list[QueueRowView]
    total: int
    shown: str
    q: str
    kinds: list[Option]
    statuses: list[Option]
    flags: list[Option]
    sorts: list[Option]
    prev_url: str
    next_url: str


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters, read from the URL; unknown values are refused, not guessed."""

    kind: str | None = None
    status: str | None = None
    flag: str | None = None
    q: str = ""
    sort: str = "-changed"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        def pick(name: str, allowed: Mapping[str, str]) -> str | None:
            value = params.get(name) or None
            if value is not None and value not in allowed:
                raise ValueError(f"unknown {name} {value[:40]!r}: use one of {', '.join(allowed)}")
            return value

        page = params.get("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= 100_000:
            raise ValueError("page must be a whole number from 1")
        return cls(
            kind=pick("kind", KINDS),
            status=pick("status", STATUSES),
            flag=pick("flag", FLAGS),
            q=(params.get("q") or "").strip()[:200],
            sort=pick("sort", SORTS) or "-changed",
            page=int(page),
        )

    def url(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        keep = {k: v for k, v in values.items() if v not in (None, "", 1, "-changed")}
        return "/?" + urllib.parse.urlencode(keep) if keep else "/"


def _claims_line(counts: Mapping[str, int]) -> str:
    if not counts.get("claims"):
        return ""
    parts = [f"{counts['claims']} claim{'s' if counts['claims'] != 1 else ''}"]
    if counts.get("open_contradicted"):
        parts.append(f"{counts['open_contradicted']} contradicted")
    if counts.get("open_unsupported"):
        parts.append(f"{counts['open_unsupported']} unchecked")
    return " · ".join(parts)


def queue_view(query: QueueQuery, rows: Sequence[Any], total: int) -> QueueView:
    """`rows` are index RecordRows: id, kind, title, status, revision, flags, last change."""
    first = (query.page - 1) * PAGE_SIZE
    shown = f"{first + 1}–{first + len(rows)} of {total:,}" if rows else f"0 of {total:,}"
    views = []
    for row in rows:
        by, action = row.last_change_by, row.last_change_action
        last = f"{ACTIONS.get(action or '', action or 'changed')} by {by}" if by else "written by panel"
        views.append(
            QueueRowView(
                title=clean(row.title),
                url=f"/r/{urllib.parse.quote(row.id, safe='')}",
                kind=row.kind,
                status=row.status,
                status_label=STATUSES.get(row.status, row.status),
                flags=[FLAGS.get(f, f) for f in row.flags],
                revision=row.revision,
                last_change=f"{last} · {when(row.last_change_at or row.updated_at)}",
                claims=_claims_line(row.counts or {}),
            )
        )

    def options(values: Mapping[str, str], chosen: str | None) -> list[Option]:
        return [Option(k, v, k == chosen) for k, v in values.items()]

    return QueueView(
        rows=views,
        total=total,
        shown=shown,
        q=query.q,
        kinds=options(KINDS, query.kind),
        statuses=options(STATUSES, query.status),
        flags=options(FLAGS, query.flag),
        sorts=options(SORTS, query.sort),
        prev_url=query.url(page=query.page - 1) if query.page > 1 else "",
        next_url=query.url(page=query.page + 1) if first + len(rows) < total else "",
    )
