"""How often single sign-on may be started by e-mail address (``/sso/``): per client address
and per typed address, in fixed ten-minute windows.

The page says whether an address's domain signs in through an identity provider and, when it
does, starts a sign-in there (state kept in the session, the address sent as ``login_hint``).
Unlimited, it would let anyone list which domains have single sign-on here and send a stream
of sign-ins to an organization's identity provider in a person's name. Counters live in
Django's cache like the invitations' and the public pages' (``soc2app.ratelimit``: Redis,
shared by every web process; failing open while Redis is down). The typed address is counted
by its SHA-256, so cache keys carry no address.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings

from soc2app.errors import DomainError
from soc2app.ratelimit import ip_bucket, window_consume

logger = logging.getLogger("sso")

WINDOW_SECONDS = 600


class TooManySignInStarts(DomainError):
    status = 429
    code = "throttled"


def _minutes_left() -> int:
    return max(1, int((WINDOW_SECONDS - time.time() % WINDOW_SECONDS) // 60) + 1)


def _refuse(scope: str, ip: str, domain: str, message: str) -> TooManySignInStarts:
    logger.warning(
        "sso sign-in start refused: too many attempts",
        extra={"limit": scope, "ip": ip, "domain": domain},
    )
    return TooManySignInStarts(f"{message} Wait {_minutes_left()} minutes and try again.")


def signin_start_consume(*, ip: str, email: str | None) -> None:
    """Count one attempt from ``ip`` (and for ``email``, a valid address, lower-cased), or
    raise ``TooManySignInStarts`` when either is over its limit. An attempt refused for its
    client address is not counted against the address it typed."""
    domain = email.rpartition("@")[2] if email else ""
    if (
        window_consume("sso-start-ip", ip_bucket(ip), window=WINDOW_SECONDS)
        > settings.SSO_SIGNIN_RATE_PER_IP
    ):
        raise _refuse("ip", ip, domain, "Too many single sign-on attempts from your network.")
    if email is None:
        return
    key = hashlib.sha256(email.encode()).hexdigest()
    per_address = settings.SSO_SIGNIN_RATE_PER_ADDRESS
    if window_consume("sso-start-address", key, window=WINDOW_SECONDS) > per_address:
        raise _refuse("address", ip, domain, f"Too many single sign-on attempts for {email}.")
