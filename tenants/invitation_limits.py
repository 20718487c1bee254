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

from soc2app.errors import DomainError
from soc2app.ratelimit import window_consume

WINDOW_SECONDS = 3600


class TooManyInvitations(DomainError):
    status = 429
    code = "throttled"


def _consume(kind: str, ident: int) -> int:
    return window_consume(f"invitation-{kind}", ident, window=WINDOW_SECONDS)


def invitation_quota_consume(*, organization_id: int, inviter_id: int) -> None:
    """Count one invitation, or raise ``TooManyInvitations`` when a limit is reached."""
    now = time.time()
    minutes_left = max(1, int((WINDOW_SECONDS - now % WINDOW_SECONDS) // 60))
    per_inviter = settings.INVITATION_RATE_PER_INVITER
    if _consume("inviter", inviter_id) > per_inviter:
        raise TooManyInvitations(
            f"You have sent {per_inviter} invitations this hour, the most allowed; "
            f"try again in {minutes_left} minutes.",
            field="email",
        )
    per_org = settings.INVITATION_RATE_PER_ORG
    if _consume("org", organization_id) > per_org:
        raise TooManyInvitations(
            f"This organization has sent {per_org} invitations this hour, the most allowed; "
            f"try again in {minutes_left} minutes.",
            field="email",
        )
