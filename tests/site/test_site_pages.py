"""What the site's files say: page snapshots, structured data, feeds, the sitemap, the JSON API,
the weekly digest, and hostile vendor text kept inert in every one of them."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from panel.editorial import votes
from panel.editorial.render import clean
from panel.records import Pricing, Source
from panel.records.store import Outputs, slugify, write_record
from panel.site import jsonld, layout, sitemap
from panel.site.api import SCHEMAS as API_SCHEMAS
from panel.site.build import SiteOptions, build

from conftest import REPO, run_panel, tree
from factory import (
    HOSTILE_NAME,
    SITE_AT,
    hostile_records,
    panel,
    publish,
    write_example_comparison,
    write_site_records,
)
from pages import CRONWRIGHT, NAMES, REVIEWS, XSS, comparison, entry, tool_panel

BASE = "https://reviews.example/"
SITEMAP_XSD = REPO / "tests" / "data" / "site" / "sitemap.xsd"
JSON_FEED_SCHEMA = REPO / "tests" / "data" / "site" / "jsonfeed-1.1.schema.json"


def site_build(root: Path, out: Path, names: dict[str, str] = NAMES) -> None:
    build(SiteOptions(outputs=root, out=out, base_url=BASE, name="Tool Verdicts", personas=names))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The two fixed comparisons, built."""
    write_site_records(tmp_path / "outputs")
    out = tmp_path / "site"
    site_build(tmp_path / "outputs", out)
    return out


# ---------------------------------------------------------------------------------------------
# Reading what was built


class Page(HTMLParser):
    """Tags, attributes, visible text, links and JSON-LD blocks of one HTML file."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link", "br"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    @property
    def jsonld(self) -> list[dict]:
        return [json.loads(s) for s in self.scripts]

    def links(self) -> list[str]:
        return [a["href"] or "" for t, a in self.tags if t in ("a", "link") and "href" in a]


def page(site: Path, path: str) -> Page:
    return Page((site / path).read_text(encoding="utf-8"))


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "nav", "main", "footer", "section",
    "article", "aside", "h1", "h2", "h3", "h4", "p", "div", "span", "strong", "a", "ul", "li", "dl", "dt",
    "dd", "br", "time", "code", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRS = {
    "lang", "charset", "name", "content", "http-equiv", "rel", "href", "type", "title", "class", "scope",
    "aria-label", "role", "datetime", "id",
}  # fmt: skip


def assert_inert(html: str, base: str = BASE, inlined: bool = False) -> Page:
    """Only our own markup: no tag or attribute outside the allow-list, no script but JSON-LD, and
    every link either relative or to the site itself. `inlined`: e-mail HTML, whose style
    attributes css-inline wrote from our own stylesheet."""
    parsed = Page(html)
    allowed = ALLOWED_ATTRS | ({"style"} if inlined else set())
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert name in allowed and not name.startswith("on"), (tag, name)
            if name == "style":
                assert "url(" not in (value or "") and "alert" not in (value or ""), value
        if tag == "script":
            assert attrs == {"type": "application/ld+json"}
    for href in parsed.links():
        assert href.startswith((base, "data:")) or not re.match(r"^[a-z][a-z0-9+.-]*:|^//", href, re.I), href
    parsed.jsonld  # noqa: B018 - every block parses
    return parsed


# ---------------------------------------------------------------------------------------------
# Snapshots


@pytest.mark.parametrize(
    "path",
    [
        "index.html",
        "comparisons/cronwright-vs-ticklane.html",
        "tools/cronwright.html",
        "categories/developer-tools.html",
        "api/tools/ticklane.json",
        "sitemap.xml",
    ],
)
def test_snapshot(site: Path, path: str, snapshot):
    assert (site / path).read_text(encoding="utf-8") == snapshot


def test_the_comparison_page_is_the_published_page_with_links(site: Path):
    shown = page(site, "comparisons/cronwright-vs-ticklane.html")
    text = shown.visible
    for expected in [
        "Cronwright vs Ticklane", "Which one should you ship with?", "75% panel ship", "14 ship / 3 skip",
        "Ship with Cronwright.", "82/100 · ship", "Published 3 Dec 2026", *NAMES.values(),
        *(" ".join(r[3].split()) for r in REVIEWS["Ticklane"]),
    ]:  # fmt: skip
        assert expected in text, expected
    links = shown.links()
    assert {
        "../tools/cronwright.html",
        "../tools/ticklane.html",
        "../categories/developer-tools.html",
    } <= set(links)
    assert "../index.html" in links and "../assets/site.css" in links


def test_the_tool_page_has_its_panel_comparisons_sources_votes_and_receipt(tmp_path: Path):
    root = tmp_path / "outputs"
    source = Source(
        title="Pricing page",
        text="Support plans from $400 per month.",
        url="https://cronwright.example/pricing",
    )
    a = tool_panel(
        CRONWRIGHT.model_copy(update={"sources": [source]}), [entry(*r) for r in REVIEWS["Cronwright"]]
    )
    b = panel("Ledgerlight", (40, 45, 62, 30))  # reviews with no claim to check, so it publishes
    record = comparison(a=a, b=b)
    draft = root / "comparisons" / "cronwright-vs-ledgerlight.json"
    write_record(draft, record)
    votes.import_votes([votes.Tally("Cronwright", 20, 5)], Outputs(root), "erin", draft)
    publish(draft, root, by="dana")
    site = tmp_path / "site"
    site_build(root, site)
    shown = page(site, "tools/cronwright.html")
    text = shown.visible
    assert "Cronwright" in text and "Developer Tools" in text
    assert all(name in text for name in NAMES.values())  # the panel, all four personas
    assert "Cronwright vs Ledgerlight" in text and "Ship with Cronwright." in text  # its comparisons
    assert "Pricing page https://cronwright.example/pricing" in text  # sources with addresses
    assert "20 ship / 5 skip" in text and "imported" in text  # community votes
    assert "test-model (test, vllm-server)" in text and "pppppppp" in text and "qqqqqqqq" in text
    assert "Seed" in text and " 7 " in f" {text} "  # the review's own seed
    assert "erin imported community votes" in text and "dana published" in text  # who did what
    assert "../comparisons/cronwright-vs-ledgerlight.html" in shown.links()


# ---------------------------------------------------------------------------------------------
# Structured data


def _application(node: dict, where: str) -> list[str]:
    found = []
    if not node.get("name"):
        found.append(f"{where}: SoftwareApplication without a name")
    if "offers" in node and "price" not in node["offers"]:
        found.append(f"{where}: offers without a price")
    if "review" not in node and "aggregateRating" not in node:
        found.append(f"{where}: SoftwareApplication without a review or an aggregateRating")
    return found


def _review(node: dict, where: str) -> list[str]:
    found = []
    if not (node.get("author") or {}).get("name"):
        found.append(f"{where}: Review without an author's name")
    rating = node.get("reviewRating") or {}
    if "ratingValue" not in rating:
        found.append(f"{where}: Review without reviewRating.ratingValue")
    elif not ("bestRating" in rating and "worstRating" in rating) and not 1 <= rating["ratingValue"] <= 5:
        found.append(f"{where}: a rating out of 1-5 needs bestRating and worstRating")
    return found


def _aggregate(node: dict, where: str) -> list[str]:
    if "ratingValue" not in node or not ({"ratingCount", "reviewCount"} & node.keys()):
        return [f"{where}: AggregateRating without ratingValue and a count"]
    return []


def _item_list(node: dict, where: str) -> list[str]:
    return [
        f"{where}.itemListElement[{i}]: a ListItem needs a position and an item or url"
        for i, item in enumerate(node.get("itemListElement", []))
        if "position" not in item or not ({"item", "url"} & item.keys())
    ]


RICH_RESULTS = {
    "SoftwareApplication": _application,
    "Review": _review,
    "AggregateRating": _aggregate,
    "ItemList": _item_list,
}


def rich_results_problems(node: object, where: str = "$") -> list[str]:
    """What the search engines' rich-results rules require, checked through the whole block:
    SoftwareApplication needs name, offers.price where it has offers, and a review or an
    aggregateRating; a Review needs an author with a name and a reviewRating with ratingValue
    (and bestRating and worstRating when the scale is not 1 to 5); an AggregateRating needs
    ratingValue and ratingCount or reviewCount; an ItemList needs ListItems with a position and
    an item or url."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in rich_results_problems(item, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    check = RICH_RESULTS.get(str(node.get("@type")))
    found = check(node, where) if check else []
    for key, value in node.items():
        found += rich_results_problems(value, f"{where}.{key}")
    return found


def test_the_rich_results_checker_finds_what_is_missing():
    assert rich_results_problems({"@type": "SoftwareApplication", "offers": {"@type": "Offer"}}) == [
        "$: SoftwareApplication without a name",
        "$: offers without a price",
        "$: SoftwareApplication without a review or an aggregateRating",
    ]
    review = {"@type": "Review", "author": {}, "reviewRating": {"ratingValue": 75}}
    assert rich_results_problems(
        {"@type": "ItemList", "itemListElement": [{"position": 1, "item": review}]}
    ) == [
        "$.itemListElement[0].item: Review without an author's name",
        "$.itemListElement[0].item: a rating out of 1-5 needs bestRating and worstRating",
    ]
    assert rich_results_problems({"@type": "AggregateRating", "ratingValue": 4}) == [
        "$: AggregateRating without ratingValue and a count"
    ]


def ratings(node: object) -> list[dict]:
    if isinstance(node, list):
        return [r for item in node for r in ratings(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("@type") == "AggregateRating" else []
    return own + [r for value in node.values() for r in ratings(value)]


def test_every_page_has_json_ld_with_the_required_fields_and_no_persona_rating(site: Path):
    kinds = {}
    for path in html_files(site):
        blocks = page(site, str(path.relative_to(site))).jsonld
        assert len(blocks) == 1, path
        assert blocks[0]["@context"] == "https://schema.org"
        assert rich_results_problems(blocks[0]) == [], path
        # Cronwright's 14/3 were typed into the record, not imported: no rating from anyone.
        assert ratings(blocks[0]) == [], path
        kinds[str(path.relative_to(site))] = blocks[0]["@type"]
    assert kinds["index.html"] == "WebSite"
    assert kinds["comparisons/cronwright-vs-ticklane.html"] == "ItemList"
    assert kinds["tools/ticklane.html"] == "SoftwareApplication"
    assert kinds["categories/developer-tools.html"] == "CollectionPage"
    app = page(site, "tools/cronwright.html").jsonld[0]
    assert app["name"] == "Cronwright" and app["applicationCategory"] == "Developer Tools"
    assert app["offers"] == {"@type": "Offer", "price": 0}  # open source
    assert app["review"]["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 75,
        "bestRating": 100,
        "worstRating": 0,
    }
    assert app["review"]["author"] == {"@type": "Organization", "name": "Tool Verdicts", "url": BASE}
    assert app["review"]["editor"] == {"@type": "Person", "name": "cam"}
    assert app["review"]["datePublished"] == "2026-12-03"
    ticklane = page(site, "tools/ticklane.html").jsonld[0]
    assert ticklane["offers"] == {"@type": "Offer", "price": 9, "priceCurrency": "USD"}
    listed = page(site, "comparisons/cronwright-vs-ticklane.html").jsonld[0]
    assert [e["item"]["name"] for e in listed["itemListElement"]] == ["Cronwright", "Ticklane"]
    assert [e["position"] for e in listed["itemListElement"]] == [1, 2]


def test_imported_votes_become_an_aggregate_rating_with_their_count(tmp_path: Path):
    root = tmp_path / "outputs"
    draft = write_example_comparison(root)
    outcomes, _ = votes.import_votes([votes.Tally("Quillstack", 12, 3)], Outputs(root), "dana", draft)
    assert outcomes[0].status == "updated"
    publish(draft, root)
    site = tmp_path / "site"
    site_build(root, site)
    expected = {
        "@type": "AggregateRating",
        "ratingValue": 80,
        "bestRating": 100,
        "worstRating": 0,
        "ratingCount": 15,
    }
    assert ratings(page(site, "tools/quillstack.html").jsonld) == [expected]
    listed = page(site, "comparisons/quillstack-vs-ledgerlight.html").jsonld
    assert ratings(listed) == [expected]  # Ledgerlight has no votes: no rating
    assert ratings(page(site, "tools/ledgerlight.html").jsonld) == []
    # Quillstack and Ledgerlight have no pricing: no price is invented, so no offers.
    assert "offers" not in page(site, "tools/quillstack.html").jsonld[0]


@pytest.mark.parametrize(
    ("entry", "detail", "offer"),
    [
        ("free", "", {"@type": "Offer", "price": 0}),
        ("freemium", "Pro is $12 per month", {"@type": "Offer", "price": 0}),
        ("open-source", "", {"@type": "Offer", "price": 0}),
        ("paid", "€19.50 per seat per month", {"@type": "Offer", "price": 19.5, "priceCurrency": "EUR"}),
        ("paid", "Contact sales for a quote", None),
        ("", "", None),
    ],
)
def test_the_offer_is_the_entry_price_or_nothing(entry: str, detail: str, offer: dict | None):
    assert jsonld.offer(Pricing(entry=entry, detail=detail)) == offer


def test_json_ld_is_encoded_so_nothing_can_close_the_script_block():
    data = {"name": "</script><script>alert(1)</script> <!-- & \u2028"}
    encoded = str(jsonld.script(data))
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded and "\u2028" not in encoded
    assert json.loads(encoded) == data


# ---------------------------------------------------------------------------------------------
# Feeds, sitemap, API


def test_the_feeds_parse_with_feedparser_and_hold_every_comparison_with_absolute_urls(site: Path):
    atom = feedparser.parse((site / "feed.xml").read_bytes())
    assert not atom.bozo, atom.bozo_exception
    assert atom.version == "atom10" and atom.feed.title == "Tool Verdicts"
    assert [e.title for e in atom.entries] == ["Cronwright vs Ticklane", "Quillstack vs Ledgerlight"]
    first = atom.entries[0]
    assert first.link == BASE + "comparisons/cronwright-vs-ticklane.html" and first.id == first.link
    assert first.updated == "2026-12-03T09:00:00+00:00" and first.published == "2026-12-03T09:00:00+00:00"
    assert atom.feed.updated == "2026-12-03T09:00:00+00:00"  # the newest record, not the build's time
    content = first.content[0].value
    assert "Reviewer scorecard" in content and "Ship with Cronwright." in content
    for href in re.findall(r'href="([^"]+)"', content):
        assert href.startswith(BASE), href
    assert_inert(content)

    # feedparser 6.0.14, the newest release, reads Atom and RSS but not JSON Feed: the JSON Feed
    # is checked against JSON Feed 1.1 as its specification lays it out (a schema of our own).
    data = json.loads((site / "feed.json").read_text())
    errors = list(Draft202012Validator(json.loads(JSON_FEED_SCHEMA.read_text())).iter_errors(data))
    assert not errors, errors[0].message
    assert [i["url"] for i in data["items"]] == [e.link for e in atom.entries]
    data = json.loads((site / "feed.json").read_text())
    assert data["feed_url"] == BASE + "feed.json" and data["home_page_url"] == BASE
    item = data["items"][0]
    assert item["date_published"] == "2026-12-03T09:00:00Z" and item["tags"] == ["Developer Tools"]
    assert all(h.startswith(BASE) for h in re.findall(r'href="([^"]+)"', item["content_html"]))

    category = feedparser.parse((site / "feeds/developer-tools.xml").read_bytes())
    assert not category.bozo and [e.title for e in category.entries] == ["Cronwright vs Ticklane"]


def test_the_sitemap_validates_and_dates_each_page_by_its_records(site: Path, tmp_path: Path):
    schema = etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))
    doc = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(doc), schema.error_log
    ns = {"s": sitemap.NAMESPACE}
    dated = {
        u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns) for u in doc.getroot()
    }
    assert dated == {
        BASE: "2026-12-03T09:00:00Z",
        BASE + "categories/developer-tools.html": "2026-12-03T09:00:00Z",
        BASE + "categories/uncategorized.html": "2026-12-02T09:00:00Z",
        BASE + "comparisons/cronwright-vs-ticklane.html": "2026-12-03T09:00:00Z",
        BASE + "comparisons/quillstack-vs-ledgerlight.html": "2026-12-02T09:00:00Z",
        BASE + "tools/cronwright.html": "2026-12-03T09:00:00Z",
        BASE + "tools/ledgerlight.html": "2026-12-02T09:00:00Z",
        BASE + "tools/quillstack.html": "2026-12-02T09:00:00Z",
        BASE + "tools/ticklane.html": "2026-12-03T09:00:00Z",
    }
    # The schema refuses what it should: it is no rubber stamp.
    url = "<url><loc>/relative</loc><lastmod>today</lastmod></url>"
    wrong = etree.fromstring(f'<urlset xmlns="{sitemap.NAMESPACE}">{url}</urlset>'.encode())
    assert not schema.validate(wrong)


def test_past_fifty_thousand_pages_the_sitemap_is_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 4)
    write_site_records(tmp_path / "outputs")
    site = tmp_path / "site"
    site_build(tmp_path / "outputs", site)
    schema = etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))
    index = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(index) and index.getroot().tag == f"{{{sitemap.NAMESPACE}}}sitemapindex"
    locs = [s.findtext(f"{{{sitemap.NAMESPACE}}}loc") for s in index.getroot()]
    assert locs == [BASE + "sitemaps/1.xml", BASE + "sitemaps/2.xml", BASE + "sitemaps/3.xml"]
    urls = []
    for n in (1, 2, 3):
        part = etree.parse(str(site / f"sitemaps/{n}.xml"))
        assert schema.validate(part)
        urls += [u.findtext(f"{{{sitemap.NAMESPACE}}}loc") for u in part.getroot()]
    assert len(urls) == len(set(urls)) == 9


def test_every_api_file_is_valid_under_the_schema_panel_schema_prints(site: Path, tmp_path: Path):
    schemas = {}
    for name in API_SCHEMAS:
        result = run_panel("schema", name, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        schemas[name] = Draft202012Validator(json.loads(result.stdout))
    files = sorted((site / "api").rglob("*.json"))
    assert len(files) == 1 + 2 + 4 + 2
    for path in files:
        data = json.loads(path.read_text())
        errors = list(schemas[data["kind"]].iter_errors(data))
        assert not errors, (path, errors[0].message)
    index = json.loads((site / "api/index.json").read_text())
    assert [c["slug"] for c in index["latest"]] == ["cronwright-vs-ticklane", "quillstack-vs-ledgerlight"]
    assert index["feeds"] == {"atom": BASE + "feed.xml", "json_feed": BASE + "feed.json"}
    tool = json.loads((site / "api/tools/cronwright.json").read_text())
    assert tool["url"] == BASE + "tools/cronwright.html" and tool["summary"]["ship_pct"] == 75
    assert tool["community"] == {"ship": 14, "skip": 3, "imported_at": None}
    unknown = run_panel("schema", "site-nothing", cwd=tmp_path)
    assert (
        unknown.returncode == 2 and "site-index, site-tool, site-comparison, site-category" in unknown.stderr
    )


def test_dates_come_from_the_records_so_a_later_build_of_the_same_records_is_identical(
    site: Path, tmp_path: Path
):
    before = tree(site)
    again = tmp_path / "again"
    site_build(tmp_path / "outputs", again)
    assert tree(again) == before


# ---------------------------------------------------------------------------------------------
# The weekly digest


def test_the_digest_is_the_weeks_comparisons_with_css_inlined_and_a_text_twin(site: Path, tmp_path: Path):
    result = run_panel("site", "digest", str(site), "--week", "2026-W49", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Digest of 2026-W49: 2 comparisons" in result.stdout
    html = (site / "digest/2026-W49.html").read_text()
    assert "<style" not in html and "<link" not in html and "<script" not in html
    assert 'style="' in html  # the rules are on the elements now
    parsed = assert_inert(html, inlined=True)
    assert parsed.links() == [
        BASE + "comparisons/quillstack-vs-ledgerlight.html",
        BASE + "tools/quillstack.html",
        BASE + "tools/ledgerlight.html",
        BASE + "comparisons/cronwright-vs-ticklane.html",
        BASE + "tools/cronwright.html",
        BASE + "tools/ticklane.html",
        BASE,
        BASE + "feed.xml",
    ]
    text = (site / "digest/2026-W49.txt").read_text()
    assert "2 comparisons published 30 Nov – 6 Dec 2026." in text
    assert "Ship with Cronwright." in text and BASE + "comparisons/cronwright-vs-ticklane.html" in text
    assert "Cronwright: 75% panel ship, Ship" in text

    empty = run_panel("site", "digest", str(site), "--week", "2026-W48", cwd=tmp_path)
    assert empty.returncode == 0 and "0 comparisons" in empty.stdout
    assert "No comparison was published 23 Nov – 29 Nov 2026." in (site / "digest/2026-W48.txt").read_text()

    site_build(tmp_path / "outputs", site)  # a later build keeps the digests
    assert (site / "digest/2026-W49.html").read_text() == html


def test_the_digest_needs_a_built_site_and_a_real_week(tmp_path: Path):
    missing = run_panel("site", "digest", str(tmp_path / "site"), cwd=tmp_path)
    assert missing.returncode == 2 and "no site has been built here" in missing.stderr
    bad = run_panel("site", "digest", "--week", "2026-W54", cwd=tmp_path)
    assert bad.returncode == 2 and "--week: '2026-W54' is not an ISO week" in bad.stderr


# ---------------------------------------------------------------------------------------------
# Hostile vendor and model text


def test_a_hostile_tool_is_inert_text_in_every_page_feed_api_file_and_json_ld(tmp_path: Path):
    root = tmp_path / "outputs"
    panel = hostile_records(root)
    site = tmp_path / "site"
    names = {**NAMES, "skeptic": "<img src=x onerror=alert(2)>"}
    site_build(root, site, names)
    run_panel("site", "digest", str(site), "--week", "2026-W49", cwd=tmp_path)
    slug = slugify(HOSTILE_NAME)
    pages_seen = 0
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        body = path.read_text(encoding="utf-8")
        if path.suffix == ".html":  # pages and the digest: only our markup, the rest is text
            parsed = assert_inert(body, inlined=path.parent.name == "digest")
            pages_seen += 1
            assert "<script>alert" not in body and "<img src=x" not in body, path
            if path.name == f"{slug}.html" and path.parent.name == "tools":
                assert parsed.jsonld[0]["name"] == HOSTILE_NAME  # the data survives, as data
                assert "\\u003c/script\\u003e" in body  # encoded where it sits in a script block
                assert HOSTILE_NAME in parsed.visible
                assert "<img src=x onerror=alert(2)>" in parsed.visible  # the persona name, as text
        elif path.suffix == ".xml":  # feeds and sitemap: well-formed, the vendor's text escaped
            etree.fromstring(body.encode())
            assert "<script>alert" not in body and "<img src=x" not in body, path
            for item in feedparser.parse(body.encode()).entries:
                assert_inert(item.content[0].value)
        elif path.suffix == ".json":  # the API and the JSON Feed: the vendor's text is a JSON string
            json.loads(body)
    assert pages_seen >= 6
    feed = json.loads((site / "feed.json").read_text())
    assert {i["title"] for i in feed["items"]} == {f"Cronwright vs {HOSTILE_NAME}"}
    assert_inert(feed["items"][0]["content_html"])
    api_tool = json.loads((site / f"api/tools/{slug}.json").read_text())
    # The same text, with control characters made spaces as on every page (render.clean).
    assert api_tool["name"] == HOSTILE_NAME and api_tool["description"] == clean(panel.tool.description)
    assert layout.category_slug(XSS[0]) in {p.stem for p in (site / "categories").iterdir()}


def test_sources_checked_is_the_oldest_fetch_time_the_records_keep():
    """Intake stamps each source with its fetch time (`fetched_at`; `checked_at` after a recheck
    found it unchanged): a page is as fresh as its stalest source. Sources without one (typed by
    a person) are not counted; none at all, no line."""
    from panel.records import Source, Tool, ToolPanel
    from panel.site.views import sources_checked

    def panels(*times: datetime | None) -> list[ToolPanel]:
        sources = [Source(title=f"s{n}", text="Text.", fetched_at=t) for n, t in enumerate(times)]
        tool = Tool(name="T", description="A tool.", sources=sources)
        return [ToolPanel(tool=tool)]

    newer, older = SITE_AT + timedelta(days=2), SITE_AT
    shown = sources_checked(panels(newer, None, older))
    assert shown is not None and shown.text == "2 Dec 2026" and shown.iso == "2026-12-02T09:00:00Z"
    assert sources_checked(panels(None)) is None
    assert sources_checked(panels()) is None
