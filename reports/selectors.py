"""Reads of reports. ``report_get_for`` looks up inside the organization and raises
``Http404`` for a missing id and another organization's alike."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from controls.models import Audit
from reports.models import Report
from tenants.models import Organization


def reports_for_audit(org: Organization | int, audit: Audit) -> QuerySet[Report]:
    """An audit's reports, newest first (one query, with who asked for each)."""
    return Report.objects.for_org(org).filter(audit=audit).order_by("-created_at", "-pk")


def report_get_for(org: Organization | int, pk: object) -> Report:
    try:
        pk = int(pk)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404("No such report.") from None
    if not 0 < pk < 2**63:
        raise Http404("No such report.")
    report = Report.objects.for_org(org).select_related("audit").filter(pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    return report
