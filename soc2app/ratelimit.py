"""Fixed-window counters in Django's cache (Redis in production, shared by every web
process). While Redis is down the cache fails open (``soc2app.cache``)."""

from __future__ import annotations

import ipaddress
import time

from django.core.cache import cache

# An IPv6 client usually holds a whole /64 (one address per device, privacy addresses that
# change): counted per address, it would have billions of counters.
IPV6_PREFIX = 64


def ip_bucket(ip: str) -> str:
    """What a per-client-address limit counts: the IPv4 address, or the IPv6 address's /64
    network (``2001:db8:1:2::/64``)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def window_consume(scope: str, ident: str | int, *, window: int) -> int:
    """Count one event of ``ident`` in the current window of ``window`` seconds; the count."""
    key = f"rate:{scope}:{ident}:{int(time.time() // window)}"
    # ``add`` creates the counter with its expiry only if missing; ``incr`` is atomic in Redis.
    cache.add(key, 0, timeout=window + 60)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, timeout=window + 60)
        return 1
