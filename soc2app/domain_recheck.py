"""The daily re-check of verified domains: single sign-on's e-mail domains (``sso.recheck``)
and the trust center's custom domain (``trust.recheck``). A domain proved once stays proved
only while its proof stays published.

The rules:

1. Once a day (``soc2app.tasks.domains_recheck_daily``), every *verified* domain not checked
   yet that day (UTC) is checked again with the code that verified it: the same DNS TXT
   record, or for single sign-on the same well-known file (either proof is enough).
2. A passing check records the time and resets the count of failed checks; a failing one
   records the time, the reason and one more failure.
3. Failures on ``MAX_FAILURES`` daily checks in a row unverify the domain (a DNS outage or a
   web site down for a day or two does not): the organization's activity log says so (a
   system actor) and its owners are e-mailed. What depends on verification stops by itself:
   sign-in is no longer routed to the domain's identity provider, and the trust center is no
   longer served on the domain.
4. Each organization is visited under its own scope (``org_scope``, ``for_org``); only the
   list of organizations to visit is read across organizations, on the system connection.
5. Idempotent: a row is claimed by a conditional UPDATE (verified, not checked since the day
   began), so a second run the same day (a retry, a redelivery) neither counts a failure
   twice nor logs or mails anything twice.

This module holds what both apps share: the day's claim, recording the results in a few
set-based statements, and the owners' e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse

from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization, Role
from tenants.validation import header_safe

logger = logging.getLogger(__name__)

MAX_FAILURES = 3
ERROR_LENGTH = 300
ACTOR = Actor.system("daily domain re-check")


@dataclass(frozen=True)
class CheckFields:
    """The names of a model's domain, verification and re-check columns."""

    domain: str
    verified_at: str
    checked_at: str
    failures: str
    error: str
    # Other columns cleared when verification is lost (single sign-on's method).
    cleared: dict[str, object] = field(default_factory=dict)


def day_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def due(fields: CheckFields, now: dt.datetime) -> Q:
    """Verified and not checked yet on ``now``'s day."""
    not_today = Q(**{f"{fields.checked_at}__isnull": True}) | Q(
        **{f"{fields.checked_at}__lt": day_start(now)}
    )
    return Q(**{f"{fields.verified_at}__isnull": False}) & not_today


def rows_recheck(
    scope: QuerySet,
    fields: CheckFields,
    rows: list[models.Model],
    *,
    organization: Organization,
    now: dt.datetime,
    proof_error: Callable[[models.Model], str | None],
    action: str,
    on_lost: Callable[[list[models.Model]], None],
) -> list[models.Model]:
    """Check ``rows`` (due, of ``scope``: one organization's) outside any transaction (DNS
    and HTTP requests), then record the results, log and hand the rows that lost
    verification to ``on_lost`` in one transaction; returns those rows."""
    failed = {row.pk: reason for row in rows if (reason := proof_error(row)) is not None}
    passed = [row.pk for row in rows if row.pk not in failed]
    with transaction.atomic():
        lost = results_record(
            scope,
            fields,
            organization=organization,
            now=now,
            passed=passed,
            failed=failed,
            action=action,
        )
        if lost:
            on_lost(lost)
    return lost


def results_record(
    scope: QuerySet,
    fields: CheckFields,
    *,
    organization: Organization,
    now: dt.datetime,
    passed: list[int],
    failed: dict[int, str],
    action: str,
) -> list[models.Model]:
    """Record one day's results of ``scope``'s rows (one organization's) in a few set-based
    statements, inside the caller's transaction, and log each row that just lost
    verification (``action``, a system actor); returns those rows as they were (their
    verification time still set). Rows claimed by another run since they were read, changed
    or unverified meanwhile, are left alone."""
    claimable = scope.filter(due(fields, now))
    if passed:
        claimable.filter(pk__in=passed).update(
            **{fields.checked_at: now, fields.failures: 0, fields.error: ""}
        )
    if not failed:
        return []
    reasons = [When(pk=pk, then=Value(reason[:ERROR_LENGTH])) for pk, reason in failed.items()]
    claimable.filter(pk__in=list(failed)).update(
        **{
            fields.checked_at: now,
            fields.failures: F(fields.failures) + 1,
            fields.error: Case(*reasons, default=F(fields.error)),
        }
    )
    lost = list(
        scope.select_for_update().filter(
            pk__in=list(failed),
            **{
                fields.checked_at: now,  # this run's claim, not an earlier or a concurrent one
                f"{fields.failures}__gte": MAX_FAILURES,
                f"{fields.verified_at}__isnull": False,
            },
        )
    )
    if lost:
        scope.filter(pk__in=[row.pk for row in lost]).update(
            **{fields.verified_at: None, **fields.cleared}
        )
    for row in lost:
        activity_record(
            organization=organization,
            actor=ACTOR,
            action=action,
            target=row,
            changes={
                fields.domain: [getattr(row, fields.domain)] * 2,
                fields.verified_at: [getattr(row, fields.verified_at), None],
                fields.failures: [None, getattr(row, fields.failures)],
                "reason": [None, getattr(row, fields.error)],
            },
        )
    return lost


def owners_notify(
    org: Organization, *, what: str, names: list[str], page: str, consequence: str = ""
) -> None:
    """E-mail the organization's active owners that ``names`` lost verification (and
    ``consequence``, what changed because of it); inside the caller's transaction, sent after
    it commits. A failed send is logged (the activity log and the settings page still tell)."""
    owners = [
        m.user.email
        for m in Membership.objects.for_org(org)
        .filter(role=Role.OWNER)
        .select_related("user")
        .order_by("user__email")
        if m.is_active and m.user.email
    ]
    if not owners or not names:
        return
    context = {
        "organization_name": header_safe(org.name),
        "what": what,
        "names": names,
        "failures": MAX_FAILURES,
        "consequence": consequence,
        "url": settings.SITE_URL + reverse(page, kwargs={"org_slug": org.slug}),
    }
    subject = header_safe(f"{org.name}: {what} no longer verified: {', '.join(names)}")
    body = render_to_string("emails/domain_unverified.txt", context)
    messages = [EmailMessage(subject=subject, body=body, to=[email]) for email in owners]
    transaction.on_commit(lambda: _send(org, messages))


def _send(org: Organization, messages: list[EmailMessage]) -> None:
    for message in messages:
        try:
            message.send()
        except Exception:
            logger.exception("domain re-check: owners of %s could not be e-mailed", org.slug)
