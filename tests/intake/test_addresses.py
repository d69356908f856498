"""The address check as a pure function: every refused range, with a resolver passed in, so
nothing here sends a packet to any of these addresses."""

from __future__ import annotations

import ipaddress

import pytest

from panel.errors import FetchFailed, FetchRefused, InputError
from panel.intake.addresses import AllowedHost, check, refusal

REFUSED = [
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.0.0.2", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("169.254.0.1", "link-local"),
    ("169.254.169.254", "link-local"),  # where cloud metadata services answer
    ("192.0.0.8", "IETF protocol"),
    ("192.0.2.10", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("192.88.99.1", "6to4 relay"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:10.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),  # mapped is refused whatever it maps to
    ("::127.0.0.1", "IPv4-compatible"),
    ("64:ff9b::a00:1", "NAT64"),
    ("64:ff9b:1::1", "NAT64"),
    ("100::1", "discard"),
    ("2001::1", "Teredo"),
    ("2001:db8::1", "documentation"),
    ("2002:7f00:1::1", "6to4"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_every_refused_range_is_named(address: str, why: str):
    reason = refusal(ipaddress.ip_address(address))
    assert reason is not None and why in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "151.101.1.1", "2606:4700::1111", "2a00:1450::1"])
def test_public_addresses_pass(address: str):
    assert refusal(ipaddress.ip_address(address)) is None


def resolver(table: dict[str, list[str]], calls: list[str] | None = None):
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


PUBLIC = resolver({"vendor.example": ["8.8.4.4"], "v6.example": ["2606:4700::1111"]})


def test_a_public_name_passes_and_is_pinned_to_the_address_checked():
    calls: list[str] = []
    target = check("https://vendor.example/pricing", (), resolver({"vendor.example": ["8.8.4.4"]}, calls))
    assert (target.host, target.port, target.address, target.scheme) == (
        "vendor.example",
        443,
        "8.8.4.4",
        "https",
    )
    assert calls == ["vendor.example"]  # resolved once


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (["10.1.2.3"], "resolves to 10.1.2.3, which is a private address"),
        (["169.254.169.254"], "link-local"),
        (["::ffff:127.0.0.1"], "IPv4-mapped"),
        (["fe80::1%eth0"], "link-local"),
        (["8.8.4.4", "127.0.0.1"], "loopback"),  # one bad answer among good ones is enough
    ],
)
def test_a_name_resolving_to_a_refused_address_is_refused(answer: list[str], why: str):
    with pytest.raises(FetchRefused) as caught:
        check("http://vendor.example/", (), resolver({"vendor.example": answer}))
    assert why in caught.value.problem and caught.value.where == "http://vendor.example/"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://vendor.example/file", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://vendor.example/", "scheme 'gopher'"),
        ("http://vendor.example:8080/", "port 8080"),
        ("https://vendor.example:22/", "port 22"),
        ("http://user:secret@vendor.example/", "user name or password"),
        ("http:///nohost", "no host"),
        ("http://vendor.example:99999/", "not a valid address"),
    ],
)
def test_schemes_ports_and_credentials(url: str, why: str):
    with pytest.raises(FetchRefused) as caught:
        check(url, (), PUBLIC)
    assert why in caught.value.problem


def test_literal_addresses_are_checked_like_names():
    with pytest.raises(FetchRefused, match=r"127\.0\.0\.2 is a loopback address"):
        check("http://127.0.0.2/", (), resolver({"127.0.0.2": ["127.0.0.2"]}))
    with pytest.raises(FetchRefused, match="IPv4-mapped"):
        check("http://[::ffff:7f00:1]/", (), resolver({"::ffff:7f00:1": ["::ffff:7f00:1"]}))


def test_a_name_that_does_not_resolve_fails_worth_a_retry():
    with pytest.raises(FetchFailed, match=r"cannot resolve nowhere\.example"):
        check("http://nowhere.example/", (), PUBLIC)


def test_allow_host_admits_the_named_host_and_port_only():
    local = resolver({"127.0.0.1": ["127.0.0.1"], "intranet.example": ["10.0.0.5"]})
    allowed = (AllowedHost.parse("127.0.0.1:8123"), AllowedHost.parse("intranet.example"))
    assert check("http://127.0.0.1:8123/x", allowed, local).admitted
    assert check("https://intranet.example/wiki", allowed, local).address == "10.0.0.5"
    for url in ("http://127.0.0.1:8124/", "http://intranet.example:8080/"):
        with pytest.raises(FetchRefused):
            check(url, allowed, local)


@pytest.mark.parametrize("text", ["", "a b", "host:port", "host:1:2", "user@host", "host/path", "host:99999"])
def test_bad_allow_host_values_are_one_line_errors(text: str):
    with pytest.raises(InputError, match="expected HOST or HOST:PORT"):
        AllowedHost.parse(text)


def test_allow_host_parses_names_ports_and_ipv6():
    assert AllowedHost.parse("Intranet.Example") == AllowedHost("intranet.example", None)
    assert AllowedHost.parse("[::1]:8080") == AllowedHost("::1", 8080)
    assert str(AllowedHost("::1", 8080)) == "[::1]:8080"
