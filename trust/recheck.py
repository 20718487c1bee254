"""The trust center's part of the daily re-check of verified domains (the rules are in
``soc2app.domain_recheck``): a verified custom domain's TXT record is checked again
(``trust.domains``). A domain that loses verification is no longer served (the host lookup,
``trust.lookups``, routes only verified domains; its cached answer is forgotten at once)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from soc2app import domain_recheck
from soc2app.dns_txt import TxtMissing, require_txt
from soc2app.domain_recheck import ACTOR, CheckFields
from tenants.activity import activity_record
from tenants.models import Organization
from trust.domains import record_name, record_value
from trust.hosts import forget_host
from trust.models import TrustCenter

FIELDS = CheckFields(
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
    reason = proof_error(center)
    # The domain as read: one changed meanwhile was unverified by the change.
    scope = TrustCenter.objects.for_org(org).filter(custom_domain=center.custom_domain)
    passed, failed = ([center.pk], {}) if reason is None else ([], {center.pk: reason})
    with transaction.atomic():
        lost = domain_recheck.results_record(scope, FIELDS, now=now, passed=passed, failed=failed)
        for row in lost:
            activity_record(
                organization=org,
                actor=ACTOR,
                action="domain_unverified",
                target=row,
                changes={
                    "custom_domain": [row.custom_domain, row.custom_domain],
                    "domain_verified_at": [row.domain_verified_at, None],
                    "domain_check_failures": [None, row.domain_check_failures],
                    "reason": [None, row.domain_check_error],
                },
            )
            domain = row.custom_domain
            transaction.on_commit(lambda domain=domain: forget_host(domain))
            domain_recheck.owners_notify(
                org, what="custom domain", names=[domain], page="trust_settings"
            )
    return [row.custom_domain for row in lost]
