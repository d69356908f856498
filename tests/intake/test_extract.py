"""Reading vendor pages: main text and whole-page text, name and pitch, links, structured data,
and pages only JavaScript fills. Pages are the invented fixtures in tests/data/intake/site."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.intake.extract import ALSO_ON_PAGE, STRUCTURED_HEADING, read_page, read_plain, split_title
from panel.intake.links import choose, same_site

SITE = Path(__file__).parents[1] / "data" / "intake" / "site"
BASE = "http://vendor.test"


def page(rel: str):
    return read_page((SITE / rel).read_text(), f"{BASE}/{rel.removesuffix('index.html')}")


def test_name_tagline_and_description_come_from_the_page():
    fernwick = page("fernwick/index.html")
    assert (fernwick.name, fernwick.tagline) == ("Fernwick", "schema migrations that review themselves")
    assert fernwick.description.startswith("Fernwick reads every database migration before it runs")
    assert "longer than 200 ms" in fernwick.description  # the first real paragraph follows
    lantern = page("lanternfish/index.html")
    assert (lantern.name, lantern.tagline) == ("Lanternfish", "Full-text search that runs in the browser")


def test_nothing_the_page_shows_is_lost_between_the_two_passes():
    """trafilatura drops the hero lines of a landing page; the whole-page pass keeps them."""
    fernwick = page("fernwick/index.html")
    assert "Ship database changes on a Friday afternoon." in fernwick.text
    assert fernwick.text.index(ALSO_ON_PAGE) > fernwick.text.index("Today more than 1,200 teams")
    pricing = page("fernwick/pricing.html")
    for fact in ("$12 per seat per month", "$0", "14-day free trial", "Contact sales"):
        assert fact in pricing.text
    plans = page("lanternfish/pricing/index.html")
    for fact in ("$29 per month", "$199 per month", "Up to 10,000 documents", "99.9% uptime"):
        assert fact in plans.text


def test_lines_of_the_main_text_are_not_repeated():
    fernwick = page("fernwick/index.html")
    assert fernwick.text.count("Today more than 1,200 teams run it in CI.") == 1


def test_json_ld_is_read_block_by_block_and_a_broken_block_is_named():
    fernwick = page("fernwick/index.html")
    structured = fernwick.text.split(STRUCTURED_HEADING, 1)[1]
    assert "Fernwick version (structured data): 2.3.0." in structured
    assert "Offer for Fernwick (structured data): Team: USD 12 per seat per month." in structured
    assert "Community: free" in structured
    assert len(fernwick.problems) == 1 and "JSON-LD block 2 is not valid JSON" in fernwick.problems[0]


def test_microdata_is_read():
    assert "Lanternfish version (structured data): 1.8.0." in page("lanternfish/index.html").text


def test_a_javascript_shell_needs_material_by_hand():
    shell = page("shellbox/index.html")
    assert "rendered by JavaScript" in shell.needs_hand
    assert shell.description == "Shellbox gives every pull request a disposable development shell."
    assert "Please enable JavaScript" not in shell.description


def test_a_next_js_page_gives_the_text_of_its_data():
    nextpad = page("nextpad/index.html")
    assert not nextpad.needs_hand
    for fact in ("$8 per user per month", "Version history for 365 days", "Free for up to 3 editors"):
        assert fact in nextpad.text
    assert "a1b2c3" not in nextpad.text  # the build id is not prose
    assert nextpad.description.startswith("Nextpad keeps a team's notes in plain Markdown files")


def test_links_are_absolute_without_fragments_and_once_each():
    html = '<a href="/a#x">A</a> <a href="/a#y">again</a> <a href="mailto:x@y">m</a> <a href="b">B</a>'
    links = read_page(f"<html><body>{html}<p>{'text ' * 60}</p></body></html>", f"{BASE}/dir/").links
    assert [(link.url, link.text) for link in links] == [(f"{BASE}/a", "A"), (f"{BASE}/dir/b", "B")]


def test_the_pages_claims_need_are_found_by_link_text_and_path():
    fernwick = page("fernwick/index.html")
    chosen = {c.purpose: c.link.url for c in choose(fernwick.url, fernwick.links)}
    assert chosen == {
        "pricing": f"{BASE}/fernwick/pricing.html",
        "license": f"{BASE}/fernwick/license.html",
        "docs": f"{BASE}/fernwick/docs/getting-started.html",
        "changelog": f"{BASE}/fernwick/changelog.html",
    }
    lantern = page("lanternfish/index.html")
    chosen = {c.purpose: c.link.url for c in choose(lantern.url, lantern.links)}
    assert chosen["license"] == f"{BASE}/lanternfish/LICENSE.txt"  # "Licence", spelt the British way
    assert (
        chosen["docs"] == f"{BASE}/lanternfish/docs/"
        and chosen["changelog"] == f"{BASE}/lanternfish/releases/"
    )


def test_the_page_budget_holds_and_other_sites_are_not_followed():
    fernwick = page("fernwick/index.html")
    assert len(choose(fernwick.url, fernwick.links, budget=3)) == 2
    assert all(c.link.url.startswith(BASE) for c in choose(fernwick.url, fernwick.links))


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("http://vendor.test/pricing", True),
        ("http://www.vendor.test/pricing", True),
        ("http://docs.vendor.test/start", True),
        ("http://vendor.test:8080/pricing", False),
        ("http://evil.test/vendor.test", False),
        ("http://vendor.test.evil/", False),
    ],
)
def test_same_site(url: str, same: bool):
    assert same_site(url, "http://vendor.test/") is same


def test_a_plain_text_page_is_read_as_it_is():
    licence = read_plain((SITE / "lanternfish/LICENSE.txt").read_text(), f"{BASE}/lanternfish/LICENSE.txt")
    assert licence.title == "MIT License" and "released under the MIT License" in licence.text


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Fernwick – schema migrations that review themselves",
            ("Fernwick", "schema migrations that review themselves"),
        ),
        ("Lanternfish | Full-text search", ("Lanternfish", "Full-text search")),
        ("Nextpad: notes", ("Nextpad", "notes")),
        ("Just a name", ("Just a name", "")),
        ("Well-known tool-chain", ("Well-known tool-chain", "")),
    ],
)
def test_titles_split_at_their_separator(title: str, expected: tuple[str, str]):
    assert split_title(title) == expected


@pytest.mark.parametrize(
    "html", ["", "   ", "<", "\x00\x01", "<?xml version='1.0' encoding='utf-8'?><html/>"]
)
def test_any_text_is_read_without_error(html: str):
    assert read_page(html, BASE).url == BASE


def test_control_characters_and_line_end_spaces_do_not_survive():
    text = read_page("<html><body><p>Fine\x1b[31m red \u0085 text   </p>" + "<p>word </p>" * 50, BASE).text
    assert "\x1b" not in text and "\x85" not in text
    assert all(line == line.rstrip() for line in text.splitlines())
