"""`panel site digest`: the week's comparisons as an e-mail-ready page and its plain-text twin.

digest/2026-W49.html has its CSS inlined onto each element by css-inline (no <style> or <link>
left, nothing loaded from anywhere) and digest/2026-W49.txt says the same in plain text. They
cover the comparisons whose latest publication falls in that ISO week (Monday to Sunday, UTC), as
the built site has them, with absolute links to its pages. They are added to the built site, swapped
in like a build, and kept by later builds. Sending them is the newsletter service's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import css_inline

from panel.editorial.render import clean
from panel.errors import InputError
from panel.site import layout, pages
from panel.site.build import DEFAULT_NAME, open_slot
from panel.site.catalog import Catalog
from panel.site.collect import RecordRow
from panel.site.releases import Releases
from panel.site.staging import Staging
from panel.site.views import When

_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False)


def week_of(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of an ISO week, in UTC."""
    year, number = int(week[:4]), int(week[6:])
    monday = datetime.combine(date.fromisocalendar(year, number, 1), datetime.min.time(), tzinfo=UTC)
    return monday, monday + timedelta(days=7)


@dataclass(frozen=True)
class DigestTool:
    name: str
    href: str
    share: str
    verdict: str
    verdict_class: str


@dataclass(frozen=True)
class DigestItem:
    title: str
    href: str
    label: str
    reason: str
    published: When
    revision: int
    tools: list[DigestTool]


@dataclass(frozen=True)
class Digest:
    week: str
    title: str
    lead: str
    site: str
    home: str
    feed: str
    items: list[DigestItem]


def digest_view(week: str, rows: list[RecordRow], name: str, base: str) -> Digest:
    start, end = week_bounds(week)
    last = end - timedelta(days=1)
    span = f"{start.day} {start:%b} – {last.day} {last:%b %Y}"
    count = len(rows)
    lead = (
        f"{count} comparison{'' if count == 1 else 's'} published {span}."
        if count
        else f"No comparison was published {span}."
    )
    items = [
        DigestItem(
            title=clean(r.title),
            href=base + layout.comparison_page(r.slug),
            label=clean(r.label),
            reason=clean(r.reason),
            published=When.of(r.published_at),
            revision=r.revision,
            tools=[
                DigestTool(
                    name=clean(t.name),
                    href=base + layout.tool_page(t.slug),
                    share="—" if t.ship_pct is None else f"{t.ship_pct}% panel ship",
                    verdict=(t.verdict or "—").capitalize(),
                    verdict_class=t.verdict or "none",
                )
                for t in r.tools
            ],
        )
        for r in rows
    ]
    return Digest(
        week, f"{clean(name)}: the week of {span}", lead, clean(name), base, base + layout.ATOM, items
    )


def html(digest: Digest) -> str:
    """The digest page with every rule of its stylesheet inlined, and the stylesheet gone."""
    page = pages.env().get_template("digest.html.jinja").render(digest=digest)
    return _INLINER.inline(page)


def text(digest: Digest) -> str:
    lines = [digest.title, "=" * min(len(digest.title), 72), "", digest.lead, ""]
    for item in digest.items:
        lines += [item.title, f"  {item.label} {item.reason}"]
        lines += [f"  - {t.name}: {t.share}, {t.verdict}" for t in item.tools]
        revised = f" (revision {item.revision})" if item.revision > 1 else ""
        lines += [f"  Published {item.published.text}{revised}", f"  {item.href}", ""]
    lines += [f"From {digest.site}: {digest.home}", f"Atom feed: {digest.feed}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class DigestReport:
    week: str
    comparisons: int
    paths: list[Path]


def write(
    out: Path, week: str, wait: bool = True, waiting: Callable[[str], None] | None = None
) -> DigestReport:
    """Add the week's digest to the built site at `out`: the live build plus two files, swapped in."""
    releases = Releases(out)
    with releases.lock(wait, waiting):
        if releases.current() is None:
            raise InputError("no site has been built here", where=out, hint="run `panel site build` first")
        live, slot, whole = releases.begin()
        catalog, linked = open_slot(slot, live if whole else None)
        staging = Staging(catalog, slot)
        try:
            with catalog.transaction():
                report = _add(catalog, staging, week, releases.out)
        finally:
            catalog.close()
        releases.commit(slot, [*linked, *staging.files, slot.manifest])
    return report


def _add(catalog: Catalog, staging: Staging, week: str, out: Path) -> DigestReport:
    base = catalog.meta("base_url") or layout.DEFAULT_BASE_URL
    name = catalog.meta("name") or DEFAULT_NAME
    rows = catalog.published_between(*week_bounds(week))
    view = digest_view(week, rows, name, base)
    paths = []
    for suffix, body in (("html", html(view)), ("txt", text(view))):
        path = layout.digest_page(week, suffix)
        staging.keep_file(path, body.encode())
        paths.append(out / path)
    return DigestReport(week, len(rows), paths)
