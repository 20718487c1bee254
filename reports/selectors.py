"""Reads of reports. ``report_get_for`` looks up inside the organization and raises
``Http404`` for a missing id and another organization's alike."""

from __future__ import annotations

from django.db.models import Case, Count, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404

from controls.models import Audit, AuditCategory, Control, ControlCriterion
from controls.selectors import audits_list, controls_list
from evidence.models import EvidenceVersion
from evidence.selectors import deliverable_versions
from reports.models import (
    AuditorAccess,
    InfoRequest,
    InfoRequestEvidence,
    Report,
    ReportStatus,
    RequestComment,
    RequestStatus,
)
from tenants.models import Membership, Organization, Role


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


# --- The auditor portal ----------------------------------------------------------------------
# An auditor sees only the audits they were granted (``AuditorAccess``) and, inside one, the
# controls mapped to a criterion in its scope, their evidence and the audit's finished reports.
# Other members (who see everything anyway) may open the portal as a preview of any audit.


def _is_auditor(membership: Membership) -> bool:
    return membership.role == Role.AUDITOR


def portal_audits(membership: Membership) -> QuerySet[Audit]:
    audits = audits_list(membership.organization_id).select_related("framework")
    if not membership.is_active:
        return audits.none()
    if _is_auditor(membership):
        granted = AuditorAccess.objects.for_org(membership.organization_id).filter(
            membership_id=membership.pk
        )
        audits = audits.filter(pk__in=granted.values("audit_id"))
    return audits


def portal_audit_get(membership: Membership, pk: object) -> Audit:
    """One audit the member may see in the portal; 404 for any other (or a bad id)."""
    try:
        pk = int(pk)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404("No such audit.") from None
    audit = portal_audits(membership).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if audit is None:
        raise Http404("No such audit.")
    return audit


def audit_scope_controls(audit: Audit) -> QuerySet[Control]:
    """The controls mapped to at least one criterion in ``audit``'s scope."""
    org = audit.organization_id
    categories = AuditCategory.objects.for_org(org).filter(audit=audit).values("category_id")
    mapped = (
        ControlCriterion.objects.for_org(org)
        .filter(criterion__framework_id=audit.framework_id, criterion__category_id__in=categories)
        .values("control_id")
    )
    return controls_list(org).filter(pk__in=mapped)


def portal_control_get(audit: Audit, pk: object) -> Control:
    try:
        pk = int(pk)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404("No such control.") from None
    control = audit_scope_controls(audit).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if control is None:
        raise Http404("No such control.")
    return control


def portal_version_get(audit: Audit, pk: object) -> EvidenceVersion:
    """A deliverable version of a live evidence item of a control in ``audit``'s scope (a file
    held for its malware scan or quarantined is "not found" in the portal)."""
    try:
        pk = int(pk)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404("No such evidence.") from None
    version = None
    if 0 < pk < 2**63:
        version = (
            deliverable_versions(EvidenceVersion.objects.for_org(audit.organization_id))
            .select_related("item")
            .filter(
                pk=pk,
                item__removed_at__isnull=True,
                item__control_id__in=audit_scope_controls(audit).values("pk"),
            )
            .first()
        )
    if version is None:
        raise Http404("No such evidence.")
    return version


def portal_reports(audit: Audit) -> QuerySet[Report]:
    return reports_for_audit(audit.organization_id, audit).filter(status=ReportStatus.DONE)


def portal_report_get(audit: Audit, pk: object) -> Report:
    report = report_get_for(audit.organization_id, pk)
    if report.audit_id != audit.pk or report.status != ReportStatus.DONE:
        raise Http404("No such report.")
    return report


def auditor_accesses(audit: Audit) -> list[AuditorAccess]:
    return list(
        AuditorAccess.objects.for_org(audit.organization_id)
        .filter(audit=audit)
        .select_related("membership__user")
        .order_by("membership__user__email")
    )


def auditor_choices(audit: Audit, accesses: list[AuditorAccess]) -> list[Membership]:
    """Active auditor memberships of the organization not yet granted ``audit``."""
    granted = {a.membership_id for a in accesses}
    rows = (
        Membership.objects.for_org(audit.organization_id)
        .filter(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__email")
    )
    return [m for m in rows if m.is_active and m.pk not in granted]


# --- Requests for information (PBC) ----------------------------------------------------------


def _count_per_request(model: type, org: int) -> Coalesce:
    """How many ``model`` rows point at the outer request (a sub-select: no join fan-out, and
    the paginator's COUNT can leave it out)."""
    rows = (
        model.objects.for_org(org)
        .filter(request_id=OuterRef("pk"))
        .order_by()
        .values("request_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def requests_for_audit(audit: Audit, status: str | None = None) -> QuerySet[InfoRequest]:
    """An audit's requests by number, with their control and counts (one query)."""
    org = audit.organization_id
    rows = (
        InfoRequest.objects.for_org(org)
        .filter(audit=audit)
        .select_related("control")
        .annotate(
            comment_count=_count_per_request(RequestComment, org),
            attachment_count=_count_per_request(InfoRequestEvidence, org),
        )
        .order_by("number")
    )
    return rows.filter(status=status) if status else rows


def scope_control_choices(audit: Audit) -> list[Control]:
    """Code and title of the audit's in-scope controls, by code (for the request form)."""
    return list(
        audit_scope_controls(audit)
        .select_related(None)
        .prefetch_related(None)
        .only("pk", "code", "title")
        .order_by("code")
    )


def open_request_count(audit: Audit) -> int:
    return (
        InfoRequest.objects.for_org(audit.organization_id)
        .filter(audit=audit, status=RequestStatus.OPEN)
        .count()
    )


def request_get(audit: Audit, pk: object) -> InfoRequest:
    """One request of ``audit``; 404 for another audit's, another organization's or a bad id."""
    try:
        pk = int(pk)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404("No such request.") from None
    found = None
    if 0 < pk < 2**63:
        found = (
            InfoRequest.objects.for_org(audit.organization_id)
            .select_related("control", "audit")
            .filter(pk=pk, audit=audit)
            .first()
        )
    if found is None:
        raise Http404("No such request.")
    return found


def request_attachments(request: InfoRequest) -> list[InfoRequestEvidence]:
    """The versions sent in answer (deliverable ones only: ``request_answer`` attaches no
    other, and this keeps it so for anything attached before that rule)."""
    deliverable = deliverable_versions(EvidenceVersion.objects.for_org(request.organization_id))
    return list(
        InfoRequestEvidence.objects.for_org(request.organization_id)
        .filter(request=request, version__in=deliverable.values("pk"))
        .select_related("version__item__control")
        .order_by("created_at", "pk")
    )


def request_comments(request: InfoRequest) -> list[RequestComment]:
    return list(RequestComment.objects.for_org(request.organization_id).filter(request=request))


def answerable_versions(
    audit: Audit, *, first_control_id: int | None = None, limit: int = 500
) -> list[EvidenceVersion]:
    """The latest version of each live evidence item of the audit's controls (for answers),
    those of ``first_control_id`` (the request's control) first. Only deliverable ones: a file
    held for its malware scan or quarantined is never sent to an auditor."""
    order = ["item__control__code", "item__title", "pk"]
    if first_control_id is not None:
        order.insert(0, Case(When(item__control_id=first_control_id, then=0), default=1))
    return list(
        deliverable_versions(EvidenceVersion.objects.for_org(audit.organization_id))
        .filter(
            is_latest=True,
            item__removed_at__isnull=True,
            item__control_id__in=audit_scope_controls(audit).values("pk"),
        )
        .select_related("item__control")
        .order_by(*order)[:limit]
    )
