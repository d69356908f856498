"""What the queue page shows, already worded: one page of index rows, the filters and paging.
The filters come from the URL and are checked against the index's own vocabulary. A team desk
adds views (my drafts, awaiting approval, everything) and, per row, who has it and whether it
awaits approval."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panel.editorial.render import clean
from panel.records import CHANGE_LABELS

from .views import FLAGS, KINDS, SORTS, STATUSES, when

PAGE_SIZE = 50
VIEWS = {"mine": "My drafts", "awaiting": "Awaiting approval", "all": "All records"}


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
    assigned: str = ""  # "ana" / "ana (idle since 10:15 UTC)"
    approval: str = ""  # "awaiting approval" / "sent back"


@dataclass(frozen=True)
class RowWork:
    """A row's team state, worded."""

    assigned: str = ""
    approval: str = ""


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    selected: bool


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
    tabs: list[Tab]
    view: str


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters, read from the URL; unknown values are refused, not guessed."""

    kind: str | None = None
    status: str | None = None
    flag: str | None = None
    q: str = ""
    sort: str = "-changed"
    page: int = 1
    view: str | None = None  # None: the person's default (views.default_view)

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
            view=pick("view", VIEWS),
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


def default_view(role: str, solo: bool) -> str:
    """What the queue shows first: a reviewer's own drafts, a publisher's approvals to give;
    everything for a person working alone."""
    if solo:
        return "all"
    return "mine" if role == "reviewer" else "awaiting"


def tabs(query: QueueQuery, view: str, counts: Mapping[str, int]) -> list[Tab]:
    """The views, each keeping the other filters; a count where the view has one."""
    return [
        Tab(
            f"{label} ({counts[name]})" if name in counts else label,
            query.url(view=name, page=1),
            name == view,
        )
        for name, label in VIEWS.items()
    ]


def queue_view(
    query: QueueQuery,
    rows: Sequence[Any],
    total: int,
    work: Mapping[str, RowWork] | None = None,
    tab_list: Sequence[Tab] = (),
    view: str = "all",
) -> QueueView:
    """`rows` are index RecordRows: id, kind, title, status, revision, flags, last change;
    `work` their team state by row id."""
    first = (query.page - 1) * PAGE_SIZE
    shown = f"{first + 1}–{first + len(rows)} of {total:,}" if rows else f"0 of {total:,}"
    views = []
    for row in rows:
        by, action = row.last_change_by, row.last_change_action
        last = f"{CHANGE_LABELS.get(action or '', action or 'changed')} by {by}" if by else "written by panel"
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
                assigned=(work or {}).get(row.id, RowWork()).assigned,
                approval=(work or {}).get(row.id, RowWork()).approval,
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
        tabs=list(tab_list),
        view=view,
    )
