"""Which hosts are this machine: one rule for every server of ours (the desk's bind and Host
checks, the site preview)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine's loopback only: `localhost`, 127.0.0.0/8 (127.0.0.2 too),
    ::1, or an IPv4-mapped loopback address (::ffff:127.0.0.1). Any other name is not, whatever
    it resolves to today. The one test behind every bind check and Host check of ours."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
