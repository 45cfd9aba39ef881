"""Which address a request comes from, believing `X-Forwarded-For` only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The caller's address: the peer, unless the peer is a trusted proxy.

    Behind trusted proxies, `X-Forwarded-For` is read right to left (each proxy appends the
    address it saw) and the first hop that is not itself a trusted proxy is the client; what
    lies left of it was written by the client and proves nothing. A malformed hop stops the
    walk at the last address a trusted proxy vouched for.
    """
    if peer is None or not trusted:
        return peer
    current = _ip(peer)
    if current is None or not _trusted(current, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            return str(current)
        current = address
        if not _trusted(address, trusted):
            return str(address)
    return str(current)
