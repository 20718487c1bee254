"""A trust center's custom domain, proved by DNS before it is served: the owner adds a TXT
record ``_soc2app-trust.<domain>`` holding ``soc2app-trust=<token>`` (the trust center's own
random token, shown on the settings page) and asks for a check (``domain_check``). The
lookup is the one single sign-on's domains use (``soc2app.dns_txt``). A changed domain is
unverified again (``trust.services.center_save``); every check is in the activity log.

Any organization may claim a domain; only one can verify it (the first to prove it; the
others are told it is taken: ``trust_center_domain_verified_once``). A verified domain is
checked again every day and unverified when its record stays missing (``trust.recheck``)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from soc2app.dns_txt import TxtMissing, require_txt
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from trust.hosts import forget_host, trust_hosts
from trust.models import TrustCenter
from trust.permissions import MANAGE

RECORD_PREFIX = "_soc2app-trust."
VALUE_PREFIX = "soc2app-trust="


def new_token() -> str:
    return secrets.token_urlsafe(24)


def record_name(domain: str) -> str:
    return f"{RECORD_PREFIX}{domain}"


def record_value(token: str) -> str:
    return f"{VALUE_PREFIX}{token}"


def domain_status(center: TrustCenter) -> dict | None:
    """What the settings page shows of the custom domain (None without one)."""
    if not center.custom_domain:
        return None
    host = center.custom_domain
    return {
        "name": host,
        "record": record_name(host),
        "value": record_value(center.domain_token) if center.domain_token else "",
        "verified_at": center.domain_verified_at,
        "checked_at": center.domain_checked_at,
        "check_failures": center.domain_check_failures,
        "check_error": center.domain_check_error,
        "listed": host in trust_hosts(),
    }


def domain_check(*, membership: Membership) -> TrustCenter:
    """Verify the trust center's custom domain by its TXT record (verified: from now on it
    can be routed); a missing record is a ``ValidationFailed`` saying what to add."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    center = TrustCenter.objects.for_org(org).first()
    if center is None or not center.custom_domain:
        raise ValidationFailed("Set a custom domain first.", field="custom_domain")
    if not center.domain_token:  # a domain set before verification existed
        center.domain_token = new_token()
        center.save(update_fields=["domain_token"])
    domain, name = center.custom_domain, record_name(center.custom_domain)
    actor = Actor.for_principal(membership)
    try:
        require_txt(name, record_value(center.domain_token))
    except TxtMissing as exc:
        activity_record(
            organization=org,
            actor=actor,
            action="domain_check_failed",
            target=center,
            changes={"custom_domain": [domain, domain], "reason": [None, str(exc)]},
        )
        raise ValidationFailed(str(exc), field="custom_domain") from exc
    now = timezone.now()
    scope = TrustCenter.objects.for_org(org).filter(pk=center.pk, custom_domain=domain)
    if center.domain_verified_at is not None:
        _failures_reset(org, actor, center, scope, now)
        return center
    try:
        with transaction.atomic():
            scope.update(
                domain_verified_at=now,
                domain_checked_at=now,
                domain_check_failures=0,
                domain_check_error="",
                updated_at=now,
            )
            activity_record(
                organization=org,
                actor=actor,
                action="domain_verified",
                target=center,
                changes={"custom_domain": [None, domain], "domain_verified_at": [None, now]},
            )
    except IntegrityError as exc:  # trust_center_domain_verified_once: another one won
        raise ValidationFailed(
            f"{domain} is already verified by another organization's trust center: a domain "
            "is served for one organization only. Choose another domain, or ask the other "
            "organization to remove it.",
            field="custom_domain",
            code="taken",
        ) from exc
    forget_host(domain)
    center.domain_verified_at = now
    return center


def _failures_reset(
    org: Organization, actor: Actor, center: TrustCenter, scope: QuerySet, now: dt.datetime
) -> None:
    """A passing "Check now" of a verified domain whose daily re-check failed
    (``trust.recheck``): its failures start again from zero."""
    if not center.domain_check_failures:
        return
    with transaction.atomic():
        scope.update(domain_checked_at=now, domain_check_failures=0, domain_check_error="")
        activity_record(
            organization=org,
            actor=actor,
            action="domain_check_passed",
            target=center,
            changes={"domain_check_failures": [center.domain_check_failures, 0]},
        )
    center.domain_checked_at, center.domain_check_failures = now, 0
    center.domain_check_error = ""
