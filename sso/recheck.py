"""Single sign-on's part of the daily re-check of verified domains (the rules are in
``soc2app.domain_recheck``): each verified e-mail domain's proof is checked again, the DNS
TXT record or the well-known file (the method it was verified by first, then the other).

A domain that loses verification no longer routes sign-in to the identity provider
(``sso.lookups``, ``sso.signin`` read only verified domains). When it was the last verified
one, single sign-on is disabled as if an owner had removed the domain
(``sso.services.domain_remove``): an enabled connection always has a verified domain."""

from __future__ import annotations

import datetime as dt

from soc2app import domain_recheck
from soc2app.domain_recheck import ACTOR, CheckFields
from sso import domains
from sso.models import SsoDomain, VerificationMethod
from sso.services import connection_disable_without_domain
from tenants.models import Organization

FIELDS = CheckFields(
    domain="domain",
    verified_at="verified_at",
    checked_at="last_checked_at",
    failures="check_failures",
    error="last_check_error",
    cleared={"verified_method": ""},
)


# Told to the owners when the last verified domain goes: nobody is locked out, but the
# requirement they chose is lifted until they verify a domain and turn it on again.
DISABLED = (
    "It was your last verified domain, so single sign-on has been DISABLED and is no longer "
    "required: members can sign in with their password again (and reset it by e-mail). "
    "Verify a domain, then enable single sign-on and require it again on the settings page."
)


def proof_error(row: SsoDomain) -> str | None:
    """None when the domain's proof is still published, else why not (the reason of the
    method it was verified by)."""
    checks = [domains.check_dns, domains.check_file]
    if row.verified_method == VerificationMethod.FILE:
        checks.reverse()
    reasons = []
    for check in checks:
        try:
            check(row.domain, row.token)
        except domains.CheckFailed as exc:
            reasons.append(str(exc))
        else:
            return None
    return reasons[0]


def organizations_due(now: dt.datetime) -> set[int]:
    """Organizations holding a verified domain not checked yet today (system connection)."""
    return set(
        SsoDomain.objects.dangerously_unscoped(reason="domain re-check: organizations to visit")
        .filter(domain_recheck.due(FIELDS, now))
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def sso_domains_recheck(*, organization: Organization, now: dt.datetime) -> list[str]:
    """Check the organization's verified domains not checked yet today; returns the domains
    that lost verification."""
    org = organization
    scope = SsoDomain.objects.for_org(org)
    rows = list(scope.filter(domain_recheck.due(FIELDS, now)).order_by("pk"))
    if not rows:
        return []

    def on_lost(lost: list[SsoDomain]) -> None:
        disabled = connection_disable_without_domain(organization=org, actor=ACTOR)
        names = [row.domain for row in lost]
        what = "e-mail domain" if len(names) == 1 else "e-mail domains"
        domain_recheck.owners_notify(
            org,
            what=what,
            names=names,
            page="sso_settings",
            consequence=DISABLED if disabled else "",
        )

    lost = domain_recheck.rows_recheck(
        scope,
        FIELDS,
        rows,
        organization=org,
        now=now,
        proof_error=proof_error,
        action="sso.domain_unverified",
        on_lost=on_lost,
    )
    return [row.domain for row in lost]
