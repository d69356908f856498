"""The built site in a real browser (Debian's chromium, driven by Playwright) and over real HTTP
(`panel site serve`'s server on loopback): it renders cleanly on a phone and a desktop, every
internal link resolves, nothing loads from another origin, and no vendor script ever runs."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_site_pages import HOSTILE_NAME, hostile_records

from conftest import run_panel
from factory import write_example_comparison

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's example comparison, published and built with the real commands."""
    work = tmp_path_factory.mktemp("example")
    draft = write_example_comparison(work / "outputs")
    published = run_panel("publish", str(draft), cwd=work, env={"USER": "dana"})
    assert published.returncode == 0, published.stderr
    built = run_panel("site", "build", cwd=work)
    assert built.returncode == 0, built.stderr
    return work / "site"


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # loopback only: the test's server
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def crawl(base: str) -> dict[str, int]:
    """Every address reachable from the index through links on the site's own pages, with the
    status it answered; links elsewhere (the base URL's own host included) are not followed."""
    seen: dict[str, int] = {}
    queue = [base + "index.html"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        status, kind, body = fetch(url)
        seen[url] = status
        if status != 200 or not kind.startswith("text/html"):
            continue
        parser = Links()
        parser.feed(body.decode())
        for link in parser.found:
            target = urllib.parse.urldefrag(urllib.parse.urljoin(url, link))[0]
            if target.startswith(base):
                queue.append(target)
    return seen


def test_every_internal_link_resolves_and_every_page_is_reachable(example_site: Path, site_server):
    base = site_server(example_site)
    seen = crawl(base)
    broken = {url: status for url, status in seen.items() if status != 200}
    assert not broken
    pages = {base + str(p.relative_to(example_site)) for p in example_site.rglob("*.html")}
    assert pages <= set(seen)  # no page is an orphan
    assert {base + "feed.xml", base + "feed.json", base + "api/index.json", base + "assets/site.css"} <= set(
        seen
    )
    # The sitemap's and feeds' absolute addresses are the site's own pages.
    sitemap = (example_site / "sitemap.xml").read_text()
    for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap):
        path = loc.removeprefix("http://127.0.0.1:8000/")
        assert fetch(base + path)[0] == 200, loc


def test_the_crawler_reports_a_broken_link(tmp_path: Path, site_server):
    """The crawler itself: a page linking to a missing one is caught."""
    (tmp_path / "index.html").write_text(
        '<a href="missing.html">x</a><a href="https://elsewhere.example/">y</a>'
    )
    base = site_server(tmp_path)
    assert crawl(base) == {base + "index.html": 200, base + "missing.html": 404}


def open_page(
    browser: object, url: str, width: int, height: int, origin: str
) -> tuple[object, object, list[str]]:
    """A page at this size, with every console error, page error, dialog and off-site request
    recorded as a problem."""
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on(
        "request",
        lambda r: None if r.url.startswith((origin, "data:")) else problems.append(f"request to {r.url}"),
    )
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("load")
    return context, page, problems


@pytest.mark.parametrize("size", list(WIDTHS))
def test_pages_render_cleanly_at_phone_and_desktop_width(
    example_site: Path, site_server, browser, size: str, tmp_path: Path
):
    base = site_server(example_site)
    width, height = WIDTHS[size]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for path in (
        "index.html",
        "comparisons/quillstack-vs-ledgerlight.html",
        "tools/quillstack.html",
        "categories/uncategorized.html",
    ):
        context, page, problems = open_page(browser, base + path, width, height, base.rstrip("/"))
        try:
            assert page.evaluate("document.styleSheets.length") == 1  # the site's stylesheet loaded
            assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"  # and applied
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)  # nothing wider than the screen
            assert page.locator("h1").count() == 1
            png = shots / f"{path.replace('/', '_')}-{width}.png"
            page.screenshot(path=str(png), full_page=True)
            data = png.read_bytes()
            assert data.startswith(b"\x89PNG") and int.from_bytes(data[16:20], "big") == width
            assert problems == [], (path, problems)
        finally:
            context.close()


def test_no_vendor_script_runs_in_the_browser(tmp_path: Path, site_server, browser):
    root = tmp_path / "outputs"
    hostile_records(root)
    built = run_panel(
        "site", "build", "-o", str(root), "--base-url", "https://reviews.example/", cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    site = tmp_path / "site"
    base = site_server(site)
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    assert len(pages) >= 6
    for path in pages:
        context, page, problems = open_page(browser, base + path, 1280, 800, base.rstrip("/"))
        try:
            page.wait_for_timeout(100)
            assert problems == [], (path, problems)  # no alert, no error, nothing fetched elsewhere
            assert (
                page.evaluate(
                    "document.querySelectorAll('script:not([type=\"application/ld+json\"])').length"
                )
                == 0
            )
            assert (
                page.evaluate("document.querySelectorAll('img, iframe, svg, form, object, embed').length")
                == 0
            )
            if path.startswith("tools/script"):
                assert HOSTILE_NAME in page.inner_text("h1")  # shown as the text it is
        finally:
            context.close()
