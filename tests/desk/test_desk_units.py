"""The desk's pure parts: word diff, queue filters, strict form parsing, hosts, the style hash."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from panel.desk.app import page_style_hash
from panel.desk.queue import QueueQuery
from panel.desk.security import FormError, allowed_hosts, is_loopback, parse_form
from panel.desk.views import word_diff
from panel.editorial.render import render_page
from panel.errors import ConfigError

from pages import NAMES, comparison

FORM = "application/x-www-form-urlencoded"


def test_word_diff_marks_words_and_rebuilds_both_sides():
    before = "The build check is <b>the</b> product & the pages a side effect."
    after = "The build check is the product & the pages are a side effect, mostly."
    segments = word_diff(before, after)
    assert "".join(s.text for s in segments if s.op != "ins") == before
    assert "".join(s.text for s in segments if s.op != "del") == after
    assert [s.text.strip() for s in segments if s.op == "del"] == ["<b>the</b>", "effect."]
    assert [s.text.strip() for s in segments if s.op == "ins"] == ["the", "are", "effect, mostly."]
    assert word_diff("same words", "same words") == [word_diff("same words", "same words")[0]]


def test_queue_filters_refuse_unknown_values_and_round_trip():
    query = QueueQuery.parse({"kind": "panel", "flag": "contradicted", "q": "  quill ", "page": "3"})
    assert (query.kind, query.flag, query.q, query.page, query.sort) == (
        "panel",
        "contradicted",
        "quill",
        3,
        "-changed",
    )
    assert QueueQuery.parse(dict(re.findall(r"(\w+)=([^&]*)", query.url(page=4)))).page == 4
    assert QueueQuery.parse({}).url() == "/"
    for bad in ({"flag": "<script>"}, {"status": "gone"}, {"page": "0"}, {"page": "-1"}, {"sort": "rm"}):
        with pytest.raises(ValueError):
            QueueQuery.parse(bad)


def test_forms_are_parsed_strictly():
    assert parse_form(b"csrf=abc&tools%5B0%5D.reviews.builder.review=caf%C3%A9+ok", FORM) == {
        "csrf": "abc",
        "tools[0].reviews.builder.review": "café ok",
    }
    assert parse_form(b"", FORM) == {}
    for body in (b"a=%ZZ", b"a=%C3%28", b"a=1&a=2", b"novalue", "é=1".encode()):
        with pytest.raises(FormError):
            parse_form(body, FORM)
    for content_type in ("application/json", "multipart/form-data; boundary=x", None):
        with pytest.raises(FormError):
            parse_form(b"a=1", content_type)


def test_allowed_hosts_are_the_served_address_and_the_named_ones():
    assert allowed_hosts("127.0.0.1", 8765, []) == {"127.0.0.1:8765", "localhost:8765"}
    assert allowed_hosts("10.0.0.5", 80, ["desk.lan", "proxy.lan:443"]) == {
        "10.0.0.5:80",
        "desk.lan:80",
        "proxy.lan:443",
    }
    assert allowed_hosts("::1", 9000, []) == {"[::1]:9000", "localhost:9000"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),  # all of 127.0.0.0/8; the Host check once said no where the bind check said yes
        ("::1", True),
        ("localhost", True),
        ("LocalHost", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("0.0.0.0", False),  # every interface
        ("::", False),
        ("::ffff:10.0.0.5", False),
        ("10.0.0.5", False),
        ("desk.lan", False),  # a name could resolve anywhere
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool):
    assert is_loopback(host) is loopback


def test_the_bind_check_and_the_host_check_agree_on_loopback(monkeypatch: pytest.MonkeyPatch):
    """`panel desk` serves any loopback address without a token; the Host check then accepts
    `localhost` for it as well. Both ask `is_loopback`."""
    from panel.cli.desk import TOKEN_ENV, desk_token

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    for host in ("127.0.0.2", "::ffff:127.0.0.1"):
        assert desk_token(host)[1]  # a token made for this run: no secret needed on loopback
        assert f"localhost:{8765}" in allowed_hosts(host, 8765, [])
    with pytest.raises(ConfigError, match="without a token"):
        desk_token("0.0.0.0")
    assert allowed_hosts("0.0.0.0", 8765, []) == {"0.0.0.0:8765"}


def test_the_csp_style_hash_is_the_published_pages_stylesheet():
    page = render_page(comparison(), "html", NAMES)
    [inline] = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    assert (
        page_style_hash() == "sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    )
