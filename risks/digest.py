"""The risk register's part of the owners' daily digest (``evidence.notifications``): a "Risks"
section of dated news, told once each (``section_window``: the days not told yet).

- an acceptance that expired (``accepted_until`` passed): told to the risk's owner;
- a risk whose review date passed: told to its owner;
- the risk assessment overdue: none run yet once the register has risks, or the latest one's
  performance date + the matrix's ``assessment_interval_days`` passed (the interval as it
  stands: a shorter one applies at once). Nobody owns it: the digest's fallback recipients
  (compliance managers, else owners and admins).

Something happened on a day (the day after the date that passed); it is news when that day
is in the window, or when its row was created since the last digest (a risk entered with its
review already past). Four to six queries per organization, whatever the register's size.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import Min, Q
from django.urls import reverse

from evidence.notifications import (
    DigestEntry,
    DigestSection,
    Window,
    organizations_with,
    section_window,
)
from risks.models import Risk, RiskAssessment, RiskMatrix, Treatment
from tenants.models import Organization

NAME = "risks"
EXPIRED = "Risk acceptances expired"
REVIEWS = "Risk reviews overdue"
ASSESSMENT = "Risk assessment overdue"
ONE_DAY = dt.timedelta(days=1)


def pending() -> set[int]:
    """Organizations with a register (the window tells each day once)."""
    return organizations_with(Risk, NAME)


def _url(org: Organization, name: str, **kwargs: object) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _risk_entries(org: Organization, window: Window) -> list[DigestEntry]:
    today = window.today
    overdue = Q(next_review_date__lt=today)
    expired = Q(treatment=Treatment.ACCEPT, accepted_until__lt=today)
    if window.after is not None:  # passed on a day of the window, or created since
        created = Q(created_at__gt=window.since)
        overdue &= Q(next_review_date__gte=window.after) | created
        expired &= Q(accepted_until__gte=window.after) | created
    rows = (
        Risk.objects.for_org(org)
        .filter(overdue | expired)
        .select_related("owner__user")
        .order_by("next_review_date", "title", "id")
    )
    entries = []
    for risk in rows:
        owners = (risk.owner,) if risk.owner_id else ()
        url = _url(org, "risk_detail", pk=risk.pk)
        if (
            risk.treatment == Treatment.ACCEPT
            and risk.accepted_until
            and risk.accepted_until < today
            and (window.holds(risk.accepted_until + ONE_DAY) or window.new(risk.created_at))
        ):
            entries.append(
                DigestEntry(
                    heading=EXPIRED,
                    text=f"{risk.title}: accepted until {risk.accepted_until:%d %b %Y}; "
                    "decide its treatment again",
                    url=url,
                    owners=owners,
                )
            )
        if risk.next_review_date < today and (
            window.holds(risk.next_review_date + ONE_DAY) or window.new(risk.created_at)
        ):
            entries.append(
                DigestEntry(
                    heading=REVIEWS,
                    text=f"{risk.title}: review was due {risk.next_review_date:%d %b %Y}",
                    url=url,
                    owners=owners,
                )
            )
    return entries


def _assessment_entry(org: Organization, window: Window) -> DigestEntry | None:
    latest = RiskAssessment.objects.for_org(org).order_by("-performed_on", "-id").first()
    url = _url(org, "risks")
    if latest is None:
        first = Risk.objects.for_org(org).aggregate(at=Min("created_at"))["at"]
        # Due from the register's first risk on: told the next digest after it (once).
        if first is None or not window.new(first):
            return None
        return DigestEntry(
            heading=ASSESSMENT,
            text="No risk assessment has been run yet: run one to freeze the register "
            "(CC3.1-CC3.4)",
            url=url,
        )
    matrix = RiskMatrix.objects.for_org(org).first()
    interval = matrix.assessment_interval_days if matrix else 365
    due = latest.performed_on + dt.timedelta(days=interval)
    if due >= window.today or not window.holds(due + ONE_DAY):
        return None
    return DigestEntry(
        heading=ASSESSMENT,
        text=f"The risk assessment of {latest.performed_on:%d %b %Y} was due again on "
        f"{due:%d %b %Y}: run the next one",
        url=url,
    )


def claim(org: Organization, token: uuid.UUID, today: dt.date) -> list[DigestEntry]:
    window = section_window(org, NAME, today)
    if window is None:
        return []
    entries = _risk_entries(org, window)
    assessment = _assessment_entry(org, window)
    return entries + ([assessment] if assessment else [])


def _undated(org: Organization, token: uuid.UUID) -> list[DigestEntry]:
    from django.utils import timezone

    return claim(org, token, timezone.localdate())


SECTION = DigestSection(name=NAME, pending=pending, claim=_undated, claim_dated=claim)
