"""Reads of risk assessments: the list (without the frozen rows), one assessment, the latest
one's dates (the register's header and the managers' to-do). Constant queries each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from risks.models import RiskAssessment
from soc2app.errors import NotFound
from tenants.models import Organization

# The list never loads the frozen register (it may hold thousands of risks).
LIST_DEFERRED = ("rows", "notes")


def assessments_list(org: Organization | int) -> QuerySet[RiskAssessment]:
    return (
        RiskAssessment.objects.for_org(org).defer(*LIST_DEFERRED).order_by("-performed_on", "-id")
    )


def assessment_get(org: Organization | int, pk: object) -> RiskAssessment:
    """One assessment of the organization; another's id (or nonsense) is "no such"."""
    text = str(pk)
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise NotFound("No such risk assessment.")
    found = RiskAssessment.objects.for_org(org).filter(pk=int(text)).first()
    if found is None:
        raise NotFound("No such risk assessment.")
    return found


@dataclass(frozen=True)
class AssessmentDue:
    last: dt.date | None  # the latest assessment's day (None: never run)
    next_due: dt.date | None
    overdue: bool  # never run, or its next due date has passed


def assessment_due(org: Organization | int, today: dt.date) -> AssessmentDue:
    """When the risk assessment was last run and when it is due again (one query)."""
    latest = (
        RiskAssessment.objects.for_org(org)
        .order_by("-performed_on", "-id")
        .values_list("performed_on", "next_due")
        .first()
    )
    if latest is None:
        return AssessmentDue(last=None, next_due=None, overdue=True)
    return AssessmentDue(last=latest[0], next_due=latest[1], overdue=latest[1] < today)
