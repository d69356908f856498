"""The fetcher against a real HTTP server on loopback (tests/vendorsite.py): pinning, redirects
checked hop by hop, size caps on the wire and after decompression, time limits, content types,
robots.txt, politeness and conditional requests."""

from __future__ import annotations

import ssl
import tracemalloc
from pathlib import Path

import pytest

from panel.errors import FetchFailed, FetchRefused, RobotsDisallowed
from panel.intake.addresses import AllowedHost, system_resolver
from panel.intake.fetcher import MAX_BYTES, Fetcher, FetchSettings, FetchStats, Validators, decode

from vendorsite import BOMB_BYTES, VendorSite


def fetcher_for(site: VendorSite, **settings: object) -> Fetcher:
    options = {"allow": (AllowedHost.parse(site.host),), "delay": 0.0, "timeout": 5.0, **settings}
    return Fetcher(FetchSettings(**options))  # type: ignore[arg-type]


def test_a_page_is_fetched_with_its_validators(vendor_site: VendorSite):
    with fetcher_for(vendor_site) as fetcher:
        response = fetcher.fetch(f"{vendor_site.url}/fernwick/", "page")
        assert response.status == 200 and response.content_type == "text/html"
        assert response.charset == "utf-8" and b"Schema migrations" in (response.body or b"")
        assert response.etag and response.last_modified
        again = fetcher.fetch(f"{vendor_site.url}/fernwick/", "page", Validators(response.etag))
    assert again.status == 304 and again.body is None
    assert vendor_site.bodies["/fernwick/"] == 1 and vendor_site.requests["/fernwick/"] == 2
    assert vendor_site.user_agents == {"panel/0.1.0"}


def test_nothing_is_fetched_from_loopback_without_allow_host(vendor_site: VendorSite):
    with Fetcher(FetchSettings(delay=0)) as fetcher, pytest.raises(FetchRefused, match="loopback"):
        fetcher.fetch(f"{vendor_site.url}/fernwick/", "page")
    assert not vendor_site.requests  # refused before connecting


def test_a_redirect_within_the_site_is_followed(vendor_site: VendorSite):
    with fetcher_for(vendor_site) as fetcher:
        response = fetcher.fetch(f"{vendor_site.url}/go/fernwick/", "page")
    assert response.final_url == f"{vendor_site.url}/fernwick/"
    assert response.redirects == (f"{vendor_site.url}/go/fernwick/",)


def test_a_redirect_to_another_loopback_address_is_refused_and_named(vendor_site: VendorSite):
    url = f"{vendor_site.url}/go/loopback/"
    with fetcher_for(vendor_site) as fetcher, pytest.raises(FetchRefused) as caught:
        fetcher.fetch(url, "page")
    assert caught.value.where == url
    assert f"redirects to http://127.0.0.2:{vendor_site.port}/fernwick/" in caught.value.problem
    assert "127.0.0.2 is a loopback address" in caught.value.problem


def test_a_redirect_to_another_port_is_refused(vendor_site: VendorSite):
    other = VendorSite().start()
    try:
        vendor_site.other_port = other.port
        with fetcher_for(vendor_site) as fetcher, pytest.raises(FetchRefused, match="loopback"):
            fetcher.fetch(f"{vendor_site.url}/go/other-port/", "page")
        assert not other.requests  # the other server never heard from us
    finally:
        other.stop()


def test_at_most_five_redirects(vendor_site: VendorSite):
    with fetcher_for(vendor_site) as fetcher, pytest.raises(FetchRefused, match="more than 5 redirects"):
        fetcher.fetch(f"{vendor_site.url}/go/loop/", "page")
    assert sum(n for path, n in vendor_site.requests.items() if path.startswith("/go/loop")) == 6


def warmed(site: VendorSite) -> Fetcher:
    """A fetcher that has read the site's robots.txt, with its byte counts at zero."""
    fetcher = fetcher_for(site)
    fetcher.fetch(f"{site.url}/fernwick/", "page")
    fetcher.stats = FetchStats()
    return fetcher


def test_a_gzip_bomb_stops_at_the_cap(vendor_site: VendorSite):
    bomb = vendor_site.bomb()
    with warmed(vendor_site) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(FetchRefused, match="over the 5,000,000-byte cap after decompression"):
                fetcher.fetch(f"{vendor_site.url}/bomb/", "page")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert 100 * len(bomb) < BOMB_BYTES
        assert fetcher.stats.bytes < len(bomb) // 4  # it stopped reading long before the end
        assert peak < 3 * MAX_BYTES  # never more inflated at once than the cap allows


def test_an_oversized_body_stops_while_streaming(vendor_site: VendorSite):
    with warmed(vendor_site) as fetcher:
        with pytest.raises(FetchRefused, match="over the 5,000,000-byte cap"):
            fetcher.fetch(f"{vendor_site.url}/huge/", "page")
        assert fetcher.stats.bytes <= MAX_BYTES + 64 * 1024


def test_a_declared_oversized_body_is_refused_before_reading(vendor_site: VendorSite):
    with warmed(vendor_site) as fetcher:
        with pytest.raises(FetchRefused, match="6,000,000 bytes is over the 5,000,000-byte cap"):
            fetcher.fetch(f"{vendor_site.url}/huge-declared/", "page")
        assert fetcher.stats.bytes == 0


def test_a_slow_server_times_out(vendor_site: VendorSite):
    with (
        fetcher_for(vendor_site, timeout=1.0) as fetcher,
        pytest.raises(FetchFailed, match="timed out after 1 s"),
    ):
        fetcher.fetch(f"{vendor_site.url}/slow/", "page")


def test_a_binary_is_refused_by_its_content_type(vendor_site: VendorSite):
    with warmed(vendor_site) as fetcher:
        with pytest.raises(FetchRefused, match="content type application/octet-stream"):
            fetcher.fetch(f"{vendor_site.url}/download.bin", "page")
        assert fetcher.stats.bodies == 0


def test_robots_txt_is_obeyed_for_panels_user_agent(vendor_site: VendorSite):
    with fetcher_for(vendor_site) as fetcher:
        with pytest.raises(RobotsDisallowed, match=r"disallows it for panel/0\.1\.0"):
            fetcher.fetch(f"{vendor_site.url}/members/bramblecast/", "page")
        fetcher.fetch(f"{vendor_site.url}/fernwick/", "page")
    assert vendor_site.requests["/robots.txt"] == 1  # read once per site
    assert "/members/bramblecast/" not in vendor_site.requests


def test_the_user_agent_is_configurable_and_robots_follow_it(vendor_site: VendorSite):
    with fetcher_for(vendor_site, user_agent="otherbot/2.0") as fetcher:
        assert fetcher.fetch(f"{vendor_site.url}/members/bramblecast/", "page").status == 200
        with pytest.raises(RobotsDisallowed, match=r"otherbot/2\.0"):
            fetcher.fetch(f"{vendor_site.url}/private/", "page")
    assert "otherbot/2.0" in vendor_site.user_agents


def test_registry_documents_do_not_ask_robots(vendor_site: VendorSite):
    with fetcher_for(vendor_site) as fetcher:
        fetcher.fetch(f"{vendor_site.url}/registry/pypi/fernwick/json", "json")
    assert "/robots.txt" not in vendor_site.requests


def test_one_request_at_a_time_per_host_with_a_delay(vendor_site: VendorSite):
    slept: list[float] = []
    settings = FetchSettings(allow=(AllowedHost.parse(vendor_site.host),), delay=0.5)
    with Fetcher(settings, sleep=slept.append) as fetcher:
        fetcher.fetch(f"{vendor_site.url}/fernwick/", "page")  # robots.txt, then the page
        fetcher.fetch(f"{vendor_site.url}/fernwick/pricing.html", "page")
    assert len(slept) == 2 and all(0.3 < s <= 0.5 for s in slept)


def test_the_connection_goes_to_the_checked_address_whatever_dns_says_later(vendor_site: VendorSite):
    """DNS rebinding: the name resolves to the test server once, then elsewhere. The fetcher
    resolves each hop once and connects to what it checked; the Host header keeps the name. (The
    later answer is a loopback address where nothing listens: a regression fails the test
    without sending anything off this machine.)"""
    answers = iter([["127.0.0.1"], ["127.0.0.9"], ["127.0.0.9"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    name = "vendor.test"
    settings = FetchSettings(allow=(AllowedHost(name, vendor_site.port),), delay=0)
    with Fetcher(settings, resolve=rebinding) as fetcher:
        response = fetcher.fetch(f"http://{name}:{vendor_site.port}/registry/pypi/fernwick/json", "json")
    assert response.status == 200 and calls == [name]


def https_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[VendorSite, list[str]]:
    """The vendor site over TLS with a certificate for `name` from a test CA the fetcher trusts
    (SSL_CERT_FILE); the names clients asked for in their TLS hello are collected."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    asked: list[str] = []
    context.sni_callback = lambda sock, server_name, ctx: asked.append(server_name)  # type: ignore[assignment]
    return VendorSite(tls=context).start(), asked


def test_https_keeps_the_name_for_tls_and_host_while_connecting_to_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    site, asked = https_site(tmp_path, monkeypatch, "vendor.test")
    try:
        settings = FetchSettings(allow=(AllowedHost("vendor.test", site.port),), delay=0)
        resolve = {"vendor.test": ["127.0.0.1"]}
        with Fetcher(settings, resolve=lambda host, port: resolve[host]) as fetcher:
            response = fetcher.fetch(f"https://vendor.test:{site.port}/registry/pypi/fernwick/json", "json")
        assert response.status == 200 and asked == ["vendor.test"]  # SNI: the name, not the address
    finally:
        site.stop()


def test_a_certificate_for_another_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site, _ = https_site(tmp_path, monkeypatch, "other.test")
    try:
        settings = FetchSettings(allow=(AllowedHost("vendor.test", site.port),), delay=0)
        url = f"https://vendor.test:{site.port}/registry/pypi/fernwick/json"
        with (
            Fetcher(settings, resolve=lambda host, port: ["127.0.0.1"]) as fetcher,
            pytest.raises(FetchFailed, match="certificate"),
        ):
            fetcher.fetch(url, "json")
        assert not site.requests  # no request went over an unverified connection
    finally:
        site.stop()


def test_the_backend_connects_nowhere_it_was_not_told(vendor_site: VendorSite):
    import httpcore

    from panel.intake.fetcher import _PinnedBackend

    with pytest.raises(httpcore.ConnectError, match="no checked address"):
        _PinnedBackend().connect_tcp("127.0.0.1", vendor_site.port)


def test_the_system_resolver_answers_for_loopback_literals():
    assert system_resolver("127.0.0.1", 80) == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("body", "charset", "html", "expected"),
    [
        ("Prix: 12 £".encode("latin-1"), "iso-8859-1", False, "Prix: 12 £"),
        ("Prix: 12 €".encode(), "", False, "Prix: 12 €"),
        (b"\xef\xbb\xbfhello", "", False, "hello"),
        ('<meta charset="windows-1252"><p>Caf\xe9</p>'.encode("cp1252"), "", True, "Café"),
        ("Größe und Preis: zwölf Euro für die Lizenz".encode("cp1252"), "", False, "Größe"),
        (b"caf\xe9", "no-such-charset", False, "café"),
    ],
)
def test_charsets(body: bytes, charset: str, html: bool, expected: str):
    assert expected in decode(body, charset, html)
