"""Fixed-window counters in Django's cache (Redis in production, shared by every web
process). While Redis is down the cache fails open (``soc2app.cache``)."""

from __future__ import annotations

import time

from django.core.cache import cache


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
