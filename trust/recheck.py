"""The trust center's part of the daily re-check of verified domains (the rules are in
``soc2app.domain_recheck``): a verified custom domain's TXT record is checked again
(``trust.domains``). A domain that loses verification is no longer served (the host lookup,
``trust.lookups``, routes only verified domains; its cached answer is forgotten at once)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from soc2app import domain_recheck
from soc2app.dns_txt import TxtMissing, require_txt
from soc2app.domain_recheck import CheckFields
from tenants.models import Organization
from trust.domains import record_name, record_value
from trust.hosts import forget_host
from trust.models import TrustCenter

FIELDS = CheckFields(
    domain="custom_domain",
    verified_at="domain_verified_at",
    checked_at="domain_checked_at",
    failures="domain_check_failures",
    error="domain_check_error",
)


def proof_error(center: TrustCenter) -> str | None:
    """None when the custom domain's TXT record is still published, else why not."""
    if not center.domain_token:
        return "No verification token: check the domain again on the settings page."
    try:
        require_txt(record_name(center.custom_domain), record_value(center.domain_token))
    except TxtMissing as exc:
        return str(exc)
    return None


def organizations_due(now: dt.datetime) -> set[int]:
    """Organizations whose custom domain is verified and not checked yet today (system
    connection)."""
    return set(
        TrustCenter.objects.dangerously_unscoped(reason="domain re-check: organizations to visit")
        .filter(domain_recheck.due(FIELDS, now))
        .exclude(custom_domain="")
        .order_by()
        .values_list("organization_id", flat=True)
    )


def trust_domain_recheck(*, organization: Organization, now: dt.datetime) -> list[str]:
    """Check the organization's verified custom domain unless checked today; returns it when
    it lost verification."""
    org = organization
    center = (
        TrustCenter.objects.for_org(org)
        .filter(domain_recheck.due(FIELDS, now))
        .exclude(custom_domain="")
        .first()
    )
    if center is None:
        return []
    domain = center.custom_domain

    def on_lost(lost: list[TrustCenter]) -> None:
        transaction.on_commit(lambda: forget_host(domain))
        domain_recheck.owners_notify(
            org, what="custom domain", names=[domain], page="trust_settings"
        )

    lost = domain_recheck.rows_recheck(
        # The domain as read: one changed meanwhile was unverified by the change.
        TrustCenter.objects.for_org(org).filter(custom_domain=domain),
        FIELDS,
        [center],
        organization=org,
        now=now,
        proof_error=proof_error,
        action="domain_unverified",
        on_lost=on_lost,
    )
    return [domain] if lost else []
