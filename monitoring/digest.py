"""Monitoring's part of the owners' daily digest (``evidence.notifications``): tests that
started failing, tests passing again, and findings that went overdue.

* A check is news when ``failing`` differs from ``notified_failing`` (what the last digest
  told): claimed by one conditional UPDATE that sets ``notified_failing = failing`` and stamps
  the digest's token, then read back by the token. A check that failed and recovered between
  two digests is no news (the webhooks told each change as it happened). Told to the owner of
  every control it tests.
* A finding is news once the overdue sweep announced it (``overdue_notified_at``) and no
  digest told it yet (``notify_claim`` empty), while it is still open. Told to its owner.

Entries nobody owns (or whose owners' access ended) go to the fallback recipients of the
evidence digest (compliance managers, else owners and admins). Three queries per section run,
whatever the number of items.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, F, Min
from django.urls import reverse

from evidence.notifications import DigestEntry, DigestSection
from monitoring.models import Check, CheckControl, Finding, FindingState
from tenants.models import Membership, Organization

FAILING = "Tests that started failing"
RECOVERED = "Tests passing again"
OVERDUE = "Overdue findings (past their due date)"


def _check_url(org: Organization, check_id: int) -> str:
    return settings.SITE_URL + reverse(
        "monitoring_check", kwargs={"org_slug": org.slug, "pk": check_id}
    )


def _overdue_pending(findings):  # type: ignore[no-untyped-def]
    return findings.filter(
        state=FindingState.OPEN, overdue_notified_at__isnull=False, notify_claim__isnull=True
    )


def pending() -> set[int]:
    """Organizations with a check or an overdue finding their owners were not told of."""
    checks = (
        Check.objects.dangerously_unscoped(reason="digest: organizations with changed tests")
        .exclude(notified_failing=F("failing"))
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    findings = (
        _overdue_pending(
            Finding.objects.dangerously_unscoped(reason="digest: overdue findings to tell")
        )
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return set(checks) | set(findings)


def _check_entries(org: Organization, token: uuid.UUID) -> list[DigestEntry]:
    scope = Check.objects.for_org(org)
    if not scope.exclude(notified_failing=F("failing")).update(
        notified_failing=F("failing"), notify_claim=token
    ):
        return []
    owners: dict[int, list[Membership]] = defaultdict(list)
    codes: dict[int, list[str]] = defaultdict(list)
    links = (
        CheckControl.objects.for_org(org)
        .filter(check_ref__notify_claim=token)
        .select_related("control__owner__user")
        .order_by("position", "id")
    )
    for link in links:
        codes[link.check_ref_id].append(link.control.code)
        owner = link.control.owner
        if owner is not None and owner not in owners[link.check_ref_id]:
            owners[link.check_ref_id].append(owner)
    entries = []
    for check in scope.filter(notify_claim=token).order_by("-failing", "title", "pk"):
        controls = f" — {', '.join(codes[check.pk])}" if codes[check.pk] else ""
        entries.append(
            DigestEntry(
                heading=FAILING if check.failing else RECOVERED,
                text=f"{check.title} ({check.get_severity_display().lower()}){controls}",
                url=_check_url(org, check.pk),
                owners=tuple(owners[check.pk]),
            )
        )
    return entries


def _overdue_entries(org: Organization, token: uuid.UUID) -> list[DigestEntry]:
    scope = Finding.objects.for_org(org)
    if not _overdue_pending(scope).update(notify_claim=token):
        return []
    groups = (
        scope.filter(notify_claim=token)
        .values("check_ref_id", "check_ref__title", "owner_id")
        .annotate(n=Count("id"), due=Min("due_date"))
        .order_by("due", "check_ref__title")
    )
    groups = list(groups)
    members = Membership.objects.for_org(org).select_related("user")
    by_id = {m.pk: m for m in members.filter(pk__in={g["owner_id"] for g in groups})}
    return [
        DigestEntry(
            heading=OVERDUE,
            text=f"{g['check_ref__title']}: {g['n']} finding{'s' if g['n'] != 1 else ''} "
            f"due {g['due']:%d %b %Y}",
            url=_check_url(org, g["check_ref_id"]),
            owners=(by_id[g["owner_id"]],) if g["owner_id"] in by_id else (),
        )
        for g in groups
    ]


def claim(org: Organization, token: uuid.UUID) -> list[DigestEntry]:
    return _check_entries(org, token) + _overdue_entries(org, token)


SECTION = DigestSection(name="monitoring", pending=pending, claim=claim)
