"""The comparison page: snapshots of both formats, untrusted text kept inert, a real browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from panel.editorial.render import clean, md, render_page
from panel.records import (
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_PRICING_DETAIL,
    MAX_TAGLINE,
    MAX_URL,
    REVIEW_MAX_CHARS,
    CommunityVotes,
    ReviewFailure,
    Tool,
)
from panel.records.store import write_record

from headless import CHROMIUM_FLAGS
from pages import CRONWRIGHT, NAMES, REVIEWS, TICKLANE, XSS, comparison, entry, tool_panel

REPO = Path(__file__).resolve().parents[2]


def test_fixture_reviews_are_full_paragraphs():
    for reviews in REVIEWS.values():
        for _, _, _, text in reviews:
            assert len(text.split()) >= 60


# ---------------------------------------------------------------------------------------------
# Snapshots and content


def test_markdown_snapshot(snapshot):
    assert render_page(comparison(), "md", NAMES) == snapshot


def _reader_text(page: str, fmt: str) -> str:
    """What a reader sees of a page: HTML as a browser shows it, Markdown once rendered."""
    return visible_text(page) if fmt == "html" else visible_text(markdown_to_html(page))


def test_html_snapshot(snapshot):
    assert render_page(comparison(), "html", NAMES) == snapshot


def test_page_shows_everything_the_review_pages_show():
    record = comparison()
    for fmt in ("html", "md"):
        page = render_page(record, fmt, NAMES)
        text = _reader_text(page, fmt)
        for expected in [
            "Cronwright vs Ticklane",
            "Which one should you ship with?",
            "Self-hosted job scheduling with a web console for cron",
            "Developer Tools",
            "open-source",
            "Apache-2.0; paid support plans from $400 per month",
            "75% panel ship",
            "50% panel ship",
            "Ship · 3 ship / 1 skip",
            "Split · 2 ship / 2 skip",  # an even split is not a ship majority
            "14 ship / 3 skip",
            "No community votes yet",
            "Ship with Cronwright.",
            "Cronwright: highest ship share (75%).",
            "82/100 · ship",
            "45/100 · skip",
            "edited",
            "verdict-disagrees: score 58 with threshold 60 means skip",
            *NAMES.values(),
            *(r[3] for r in REVIEWS["Ticklane"]),
        ]:
            assert expected in text, (fmt, expected)
        if fmt == "md":
            assert "Cronwright" in page.splitlines()[0]


def test_html_has_one_verdict_per_review_and_a_strict_policy():
    page = render_page(comparison(), "html", NAMES)
    tags = parse_html(page)
    assert sum("verdict" in t.classes for t in tags) == 8
    assert page.count('class="verdict"') == 8
    metas = [dict(t.attrs) for t in tags if t.name == "meta"]
    assert {"charset": "utf-8"} in metas
    assert any(m.get("name") == "viewport" for m in metas)
    csp = next(m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy")
    assert csp == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "<script" not in page and "<link" not in page and "url(" not in page and "@import" not in page


def test_single_panel_renders_with_the_same_layout():
    panel = comparison().panels[0]
    page = render_page(panel, "html", NAMES)
    assert page.count('class="verdict"') == 4
    assert "<h1>Cronwright</h1>" in page and "Should you ship with Cronwright?" in page
    assert "Reviewer scorecard" in page and "Ship with Cronwright." in page
    md_page = render_page(panel, "md", NAMES)
    assert md_page.startswith("# Cronwright\n") and "| Panel verdict | Ship · 3 ship / 1 skip |" in md_page


def test_failed_missing_and_unnamed_reviewers():
    """A failure shows a dash and its reason; a persona one panel lacks shows a dash; no name: the id."""
    creator = "A creator's view: " + REVIEWS["Cronwright"][2][3]
    a = tool_panel(
        CRONWRIGHT, [*(entry(*r) for r in REVIEWS["Cronwright"]), entry("creator", 70, "ship", creator)]
    )
    b = tool_panel(
        TICKLANE,
        [entry(*REVIEWS["Ticklane"][0])],
        [
            ReviewFailure(persona=p, reason="reply cut off at max_tokens twice")
            for p in NAMES
            if p != "builder"
        ],
    )
    record = comparison(a, b)
    html = render_page(record, "html", NAMES)
    assert html.count('class="verdict"') == 6
    assert html.count("Review failed: reply cut off at max_tokens twice") == 3
    assert "Not reviewed by this persona." in html and "<h3>Creator</h3>" in html
    assert "Ship · 1 ship / 0 skip · 3 failed" in html
    md_page = render_page(record, "md", None)
    assert "### Creator" in md_page and "### Skeptic" in md_page  # ids capitalised without names
    assert md_page.count("Review failed: reply cut off at max\\_tokens twice") == 3
    nobody = tool_panel(TICKLANE, [], [ReviewFailure(persona="builder", reason="server down")])
    lone = render_page(nobody, "html", NAMES)
    assert '<span class="big">—</span>' in lone and "Neither." not in lone and "Skip." in lone


def test_decision_outcomes_split_and_neither():
    a = comparison().panels[0]
    twin = a.model_copy(update={"tool": a.tool.model_copy(update={"name": "Cronwright Twin"})})
    split = render_page(comparison(a, twin), "md", NAMES)
    assert "**Split decision.**" in split
    skips = [entry(p, 20, "skip", REVIEWS["Cronwright"][0][3]) for p in NAMES]
    neither = render_page(comparison(tool_panel(CRONWRIGHT, skips), tool_panel(TICKLANE, skips)), "html")
    assert "<strong>Neither.</strong> No tool has a panel majority for ship." in neither


# ---------------------------------------------------------------------------------------------
# Escaping


def test_md_filter_escapes_markup_and_collapses_lines():
    assert md("a *b* _c_ [d](e) <f> & | g\n\nh") == (
        "a \\*b\\* \\_c\\_ \\[d\\]\\(e\\) &lt;f&gt; &amp; \\| g h"
    )
    assert md(md("x_y")) == "x\\_y"  # escaping twice would show backslashes
    # Only what Markdown needs: no autolinks, no block at the start, and ordinary text as it is.
    assert md("https://e.example www.e.example") == "https\\://e.example www\\.e.example"
    assert (
        md("a 30-day trial at 99.5% uptime: v1.2, see @team")
        == "a 30-day trial at 99.5% uptime: v1.2, see @team"
    )
    for start, escaped in [
        ("# h", "\\# h"),
        ("- x", "\\- x"),
        ("+ x", "\\+ x"),
        ("1. x", "1\\. x"),
        ("=== x", "\\=== x"),
    ]:
        assert md(start) == escaped


def test_hostile_tool_and_review_text_stays_text():
    tool = TICKLANE.model_copy(
        update={
            "tagline": "<img src=x onerror=alert(1)>",
            "description": "Real scheduler. <script>alert('xss')</script>",
        }
    )
    hostile = "</td><script>alert(2)</script> [link](javascript:alert(1)) | pipes | " + "filler " * 40
    b = tool_panel(tool, [entry(p, 50, "skip", hostile) for p in NAMES])
    record = comparison(b=b)
    html = render_page(record, "html", NAMES)
    assert "<script" not in html and "<img" not in html and "</td><script>" not in html
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/td&gt;&lt;script&gt;" in html
    assert_only_allowed_markup(html)
    text = render_page(record, "md", NAMES)
    assert "<script" not in text and "<img" not in text and "](javascript:" not in text
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\) \\| pipes \\|" in text
    rendered = markdown_to_html(text)
    assert_only_allowed_markup(rendered, MD_TAGS, set())
    assert "[link](javascript:alert(1)) | pipes |" in visible_text(rendered)
    assert table_shape(rendered) == [3] * 6


@pytest.mark.parametrize("payload", XSS, ids=range(len(XSS)))
def test_xss_corpus_in_every_field_stays_text(payload: str):
    def fit(limit: int) -> str:
        return payload.strip()[:limit].strip() or "x"

    tool = Tool(
        name=fit(MAX_NAME),
        tagline=fit(MAX_TAGLINE),
        category=fit(MAX_CATEGORY),
        pricing={"entry": "paid", "detail": fit(MAX_PRICING_DETAIL)},
        url=("https://x.example/" + re.sub(r"\s", "", payload))[:MAX_URL],
        description=fit(MAX_DESCRIPTION),
    )
    review = (payload + " " + "padding " * 30)[:REVIEW_MAX_CHARS]
    hostile = tool_panel(
        tool,
        [entry(p, 61, "skip", review) for p in ("builder", "skeptic")],
        [ReviewFailure(persona="futurist", reason=payload)],
    )
    names = {**NAMES, "builder": payload[:80]}
    record = comparison(b=hostile).model_copy(update={"community": {tool.name: CommunityVotes(ship=1)}})

    html = render_page(record, "html", names)
    assert_only_allowed_markup(html)
    shown = visible_text(html)
    for field in (tool.description, tool.tagline, tool.pricing.detail, review):
        assert clean(field) in shown
    assert html.count('class="verdict"') == 6

    text = render_page(record, "md", names)
    assert "<" not in text and "](" not in text and "www." not in text
    assert not re.search(r"[^\\]:/", text)  # a scheme's colon is always escaped: no autolinks
    assert "{{" not in text  # braces are escaped; the text checks below show nothing was evaluated
    rendered = markdown_to_html(text)
    assert_only_allowed_markup(rendered, MD_TAGS, set())
    assert table_shape(rendered) == [3] * 6
    flat = visible_text(rendered)
    for field in (tool.description, review):
        assert " ".join(clean(field).split()) in flat


def test_unencodable_and_control_characters_are_replaced():
    """Records refuse lone surrogates, but persona names come from elsewhere: the page still encodes."""
    for fmt in ("html", "md"):
        page = render_page(comparison(), fmt, {**NAMES, "builder": "Buil\ud800der\x00\x1b"})
        assert "Buil\ufffdder" in page.encode("utf-8").decode("utf-8")
        assert "\x00" not in page and "\x1b" not in page


# ---------------------------------------------------------------------------------------------
# Helpers: parse what we produced, with an allow-list of tags and attributes.

HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "section", "article",
    "h1", "h2", "h3", "h4", "p", "div", "span", "strong", "dl", "dt", "dd", "br",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
HTML_ATTRS = {"lang", "charset", "name", "content", "http-equiv", "class", "scope", "aria-label", "role"}
MD_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "strong", "em", "table", "thead", "tbody", "tr", "th", "td"}


class Tag:
    def __init__(self, name: str, attrs: list[tuple[str, str | None]]):
        self.name, self.attrs = name, attrs
        self.classes = (dict(attrs).get("class") or "").split()


class Collector(HTMLParser):
    """Every start tag, the visible text, the style sheet, and anything a browser would run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self.text: list[str] = []
        self.style: list[str] = []
        self.stack: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(Tag(tag, attrs))
        if tag not in ("meta", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.style if self.stack and self.stack[-1] == "style" else self.text).append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def collect(page: str) -> Collector:
    parser = Collector()
    parser.feed(page)
    parser.close()
    return parser


def parse_html(page: str) -> list[Tag]:
    return collect(page).tags


def visible_text(page: str) -> str:
    return "".join(collect(page).text)


def assert_only_allowed_markup(page: str, tags: set[str] = HTML_TAGS, attrs: set[str] = HTML_ATTRS) -> None:
    parsed = collect(page)
    assert not parsed.comments
    for tag in parsed.tags:
        assert tag.name in tags, tag.name
        for name, _ in tag.attrs:
            assert name in attrs and not name.startswith("on"), (tag.name, name)
    if tags is HTML_TAGS:
        assert [t.name for t in parsed.tags].count("style") == 1
        assert len([t for t in parsed.tags if t.name == "meta"]) == 4
        sheet = "".join(parsed.style)
        assert "evil" not in sheet and "alert" not in sheet and "url(" not in sheet


def markdown_to_html(text: str) -> str:
    """CommonMark plus GitHub's tables and strikethrough, raw HTML allowed as GitHub allows it."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text)


def table_shape(rendered: str) -> list[int]:
    """Cells per row of the (single) decision table: pipes in text must not add cells or rows."""
    rows, current = [], 0
    for tag in parse_html(rendered):
        if tag.name == "tr":
            if current:
                rows.append(current)
            current = 0
        elif tag.name in ("td", "th"):
            current += 1
    return [*rows, current] if current else rows


# ---------------------------------------------------------------------------------------------
# A real headless browser (the `chromium` fixture is in conftest.py)


def test_browser_loads_the_page_and_runs_no_vendor_script(chromium: str, tmp_path: Path):
    payload = "<script>document.title='pwned'</script>"
    b = comparison().panels[1]
    b = b.model_copy(update={"tool": TICKLANE.model_copy(update={"description": f"Scheduler. {payload}"})})
    page = tmp_path / "page.html"
    page.write_text(render_page(comparison(b=b), "html", NAMES), encoding="utf-8")
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert proc.returncode == 0 and "Reviewer scorecard" in dom, proc.stderr[-2000:]
    tags = parse_html(dom)
    assert sum("verdict" in t.classes for t in tags) == 8
    assert not [t for t in tags if t.name in ("script", "img", "iframe", "a")]
    assert "<title>Cronwright vs Ticklane · panel review</title>" in dom and "pwned</title>" not in dom
    assert "Scheduler. &lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom


def test_screenshots_at_phone_and_desktop_width(chromium: str, tmp_path: Path):
    """bench/screenshot.sh renders a stored record and shoots it with the same flags."""
    record = tmp_path / "record.json"
    write_record(record, comparison())
    out = tmp_path / "shots"
    proc = subprocess.run(
        ["bash", str(REPO / "bench" / "screenshot.sh"), str(record), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "page.html").read_text(encoding="utf-8").count('class="verdict"') == 8
    for name, size in (("phone-390x844.png", (390, 844)), ("desktop-1280x800.png", (1280, 800))):
        png = (out / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000, name
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == size


def test_the_editors_view_marks_each_claim_by_status_and_the_public_page_does_not():
    from panel.grounding.ground import refresh

    hostile_text = "A <b>GPL-3.0</b> license and Apache Airflow; " + "filler " * 40
    a = tool_panel(CRONWRIGHT, [entry(p, 50, "skip", hostile_text) for p in NAMES])
    record = refresh(comparison(a=a), [])  # Cronwright is Apache-2.0 licensed
    claims = record.panels[0].reviews[0].claims
    assert {c.text for c in claims} >= {"GPL-3.0"}
    html = render_page(record, "html", NAMES, editor=True)
    assert_only_allowed_markup(html, HTML_TAGS | {"mark", "sup"}, HTML_ATTRS | {"title"})
    assert '<mark class="claim claim-contradicted"' in html and ">GPL-3.0</mark>" in html
    assert "&lt;b&gt;" in html  # the text around the claims stays escaped
    assert "Editor's view, not for publishing" in html
    public = render_page(record, "html", NAMES)
    assert "<mark" not in public and "claim-" not in public
    text = render_page(record, "md", NAMES, editor=True)
    assert "**GPL-3.0** *\\[contradicted\\]*" in text
    assert_only_allowed_markup(markdown_to_html(text), MD_TAGS, set())


# ---------------------------------------------------------------------------------------------
# Juries


def jury_comparison():
    """Cronwright's skeptic judged by a jury that split (one member failed); Ticklane's builder by
    one whose Mistral member was recused."""
    from factory import jury_review

    a = comparison().panels[0]
    split = jury_review("skeptic", [("qwen", 80), ("llama", "failed"), ("gemma", 30)])
    a = a.model_copy(update={"reviews": [split if r.persona == "skeptic" else r for r in a.reviews]})
    b = comparison().panels[1]
    trio = jury_review("builder", [("qwen", 71), ("llama", 66), ("mistral", "recused")])
    b = b.model_copy(update={"reviews": [trio if r.persona == "builder" else r for r in b.reviews]})
    return comparison(a, b)


def test_jury_page_snapshot(snapshot):
    assert render_page(jury_comparison(), "md", NAMES) == snapshot


def test_pages_show_judges_splits_and_recusals():
    record = jury_comparison()
    for fmt in ("html", "md"):
        page = render_page(record, fmt, NAMES)
        text = _reader_text(page, fmt)
        for expected in [
            "3 judges",
            "2 judges",
            "55/100 · split",
            "Split: 1 ship / 1 skip / 1 failed",
            "Recused: mistral, same vendor as the tool (the tool's name says Mistral)",
            "Ship · 3 ship / 0 skip · 1 split",
        ]:
            assert expected in text, (fmt, expected)
    # The tool card says who was recused from this tool.
    html = render_page(record, "html", NAMES)
    card = html.split('<article class="card">')[2].split("</article>")[0]
    assert "Recused: mistral, same vendor as the tool" in card
    assert html.count('class="verdict"') == 8


def test_a_single_panel_that_splits_says_so_in_the_decision():
    panel = comparison().panels[1]  # Ticklane: 2 ship / 2 skip
    page = render_page(panel, "html", NAMES)
    assert "<strong>Split.</strong>" in page and "Ticklane&#39;s panel is split (2 ship / 2 skip)" in page
    assert "Ship with" not in page
