"""The address a request really came from, for rate limits and login throttling.

X-Forwarded-For is believed only when the direct peer is one of the configured
reverse proxies (BOT_TRUSTED_PROXIES); anybody else could write any address
there and get a fresh allowance with every request. Of the forwarded list the
right-most entry that is not itself a trusted proxy is taken: entries to its
left were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def _normal(address: str) -> str:
    address = address.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address[:100]


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]
) -> str:
    """The client's address: `peer`, or from X-Forwarded-For when `peer` is a trusted proxy."""
    trusted = {_normal(p) for p in trusted_proxies}
    address = _normal(peer or "") or "unknown"
    if address not in trusted or not forwarded_for:
        return address
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        hop = _normal(hop)
        if hop not in trusted:
            return hop
    return address
