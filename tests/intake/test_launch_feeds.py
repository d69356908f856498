"""Launch feeds: Atom, RSS 2.0 and JSON Feed 1.1, entry by entry; titles split into name and
tagline; a feed that cannot be read is one line, before anything is done."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.errors import InputError
from panel.intake.feeds import BadEntry, Entry, name_and_tagline, open_feed

SITE = Path(__file__).parents[1] / "data" / "intake" / "site"
BASE = "http://feeds.test"


def entries(name: str, content_type: str = "") -> list[Entry | BadEntry]:
    body = (SITE / name).read_bytes().replace(b"{BASE}", BASE.encode())
    return list(open_feed(body, content_type, name, f"{BASE}/{name}").entries())


def test_atom():
    found = entries("feed.atom")
    assert [(e.key, e.link, e.name, e.tagline) for e in found if isinstance(e, Entry)] == [
        ("urn:launch:fernwick", f"{BASE}/fernwick/", "Fernwick", "schema migrations that review themselves"),
        (
            "urn:launch:lanternfish",
            f"{BASE}/lanternfish/",
            "Lanternfish",
            "full-text search that runs in the browser",
        ),
        ("urn:launch:murmur", f"{BASE}/murmur/", "Murmur-1B", "speech recognition that fits on a phone"),
    ]
    assert found[0].summary == "A migration checker that stops lock-heavy statements before they run."  # type: ignore[union-attr]


def test_rss_with_guids_relative_links_and_html_summaries():
    found = [e for e in entries("feed.rss") if isinstance(e, Entry)]
    assert [(e.key, e.name) for e in found] == [
        ("tool-shellbox", "Shellbox"),
        ("tool-nextpad", "Nextpad"),
        (f"{BASE}/fernwick/", "Fernwick"),  # no guid: known by its link, resolved against the feed
    ]
    assert found[1].summary == "Live Markdown notes."


def test_json_feed_and_an_entry_without_a_link():
    found = entries("feed.json", "application/feed+json")
    assert (
        isinstance(found[0], Entry)
        and found[0].name == "Lanternfish"
        and found[0].key == "launch-lanternfish"
    )
    assert isinstance(found[1], Entry) and found[1].summary == "Markdown notes your whole team edits at once."
    assert found[2] == BadEntry("entry 3", "no http(s) link to the tool")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Show HN: Foo – a faster bar", ("Foo", "a faster bar")),
        ("Launch HN: Foo (YC W26) — a faster bar", ("Foo (YC W26)", "a faster bar")),
        ("Introducing: Foo - a faster bar", ("Foo", "a faster bar")),
        ("Foo", ("Foo", "")),
    ],
)
def test_launch_titles(title: str, expected: tuple[str, str]):
    assert name_and_tagline(title) == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "the feed is empty"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "not well-formed XML"),
        (b"<html><body>a page</body></html>", "not an Atom, RSS or JSON Feed document (its root is <html>)"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "items: expected a list"),
        (b'{"version": "2", "items": []}', "not a JSON Feed"),
        (b'{"items": [], "items": []}', "duplicate key"),
        (
            b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<feed xmlns='http://www.w3.org/2005/Atom'><title>&x;</title></feed>",
            "",
        ),
    ],
)
def test_a_feed_that_cannot_be_read_is_one_line(body: bytes, problem: str):
    if not problem:  # an external entity is never resolved: the feed reads, with no file in it
        feed = open_feed(body, "", "feed.xml")
        assert feed.count == 0 and list(feed.entries()) == []
        return
    with pytest.raises(InputError) as caught:
        open_feed(body, "", "feed.xml")
    assert problem in caught.value.problem and caught.value.where == "feed.xml"


def test_a_long_feed_is_read_entry_by_entry():
    entries_xml = "".join(
        f"<entry><id>urn:n:{n}</id><title>T{n}</title><link href='/t/{n}/'/></entry>" for n in range(3000)
    )
    body = f"<feed xmlns='http://www.w3.org/2005/Atom'>{entries_xml}</feed>".encode()
    feed = open_feed(body, "application/atom+xml", "long", BASE)
    assert feed.count == 3000
    iterator = feed.entries()
    first = next(iterator)
    assert isinstance(first, Entry) and first.link == f"{BASE}/t/0/"
    assert sum(1 for _ in iterator) == 2999


def test_a_feed_in_its_own_declared_encoding():
    body = (
        "<?xml version='1.0' encoding='iso-8859-1'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<entry><id>urn:c</id><title>Caf\xe9 - notes for caf\xe9s</title><link href='https://c.example/'/></entry>"
        "</feed>"
    ).encode("latin-1")
    [entry] = list(open_feed(body, "", "latin.atom").entries())
    assert isinstance(entry, Entry) and (entry.name, entry.tagline) == ("Café", "notes for cafés")
