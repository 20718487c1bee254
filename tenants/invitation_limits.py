"""How many invitations an organization and an inviter may send per hour.

Every signed-up user can create an organization and invite addresses of their choosing, so
without a limit the invitation form sends mail for anyone. Counters live in Django's cache
(Redis in production, shared by every web process) in fixed one-hour windows; the inviter's
counter is per person across all their organizations, so creating more organizations does not
buy more mail. While Redis is down the cache fails open (``soc2app.cache``), like allauth's
own limits.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from soc2app.errors import DomainError

WINDOW_SECONDS = 3600


class TooManyInvitations(DomainError):
    status = 429
    code = "throttled"


def _window_key(kind: str, ident: int, now: float) -> str:
    return f"invitation-rate:{kind}:{ident}:{int(now // WINDOW_SECONDS)}"


def _consume(key: str) -> int:
    # ``add`` creates the counter with its expiry only if missing; ``incr`` is atomic in Redis.
    cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, timeout=WINDOW_SECONDS + 60)
        return 1


def invitation_quota_consume(*, organization_id: int, inviter_id: int) -> None:
    """Count one invitation, or raise ``TooManyInvitations`` when a limit is reached."""
    now = time.time()
    minutes_left = max(1, int((WINDOW_SECONDS - now % WINDOW_SECONDS) // 60))
    per_inviter = settings.INVITATION_RATE_PER_INVITER
    if _consume(_window_key("inviter", inviter_id, now)) > per_inviter:
        raise TooManyInvitations(
            f"You have sent {per_inviter} invitations this hour, the most allowed; "
            f"try again in {minutes_left} minutes.",
            field="email",
        )
    per_org = settings.INVITATION_RATE_PER_ORG
    if _consume(_window_key("org", organization_id, now)) > per_org:
        raise TooManyInvitations(
            f"This organization has sent {per_org} invitations this hour, the most allowed; "
            f"try again in {minutes_left} minutes.",
            field="email",
        )
