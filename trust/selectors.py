"""Reads of the trust center: the public page's content (only what the organization chose),
and the owners' lists (documents, requests, choices). Each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from controls.models import Audit, AuditCategory, Control, ControlCriterion
from controls.readiness import audit_readiness
from policies.models import PolicyVersion, VersionState
from soc2app.errors import NotFound
from tenants.models import Organization
from trust.models import RequestStatus, TrustCenter, TrustControl, TrustDocument, TrustRequest
from vendors.models import Vendor

OTHER_AREA = "Other controls"


@dataclass
class ControlState:
    code: str
    title: str
    green: bool


@dataclass
class Area:
    name: str
    controls: list[ControlState] = field(default_factory=list)


def audit_status(audit: Audit | None) -> str:
    """ "SOC 2 Type 2, window ending 31 Dec 2026" / "SOC 2 Type 1 as of 30 Jun 2026"."""
    if audit is None:
        return ""
    if audit.is_type2:
        return f"SOC 2 Type 2, window ending {audit.window_end:%-d %b %Y}"
    return f"SOC 2 Type 1 as of {audit.as_of_date:%-d %b %Y}"


def published_control_ids(org: Organization) -> list[int]:
    return list(TrustControl.objects.for_org(org).values_list("control_id", flat=True))


def control_areas(org: Organization, audit: Audit | None, today: dt.date) -> list[Area]:
    """The chosen controls grouped by the series of their first criterion (CC6 Logical and
    physical access…), each green when the readiness engine finds it operating in the chosen
    audit (implemented, with the evidence the audit needs), amber otherwise. Only codes,
    titles and that state: never evidence or details."""
    chosen = published_control_ids(org)
    if not chosen:
        return []
    controls = list(Control.objects.for_org(org).filter(pk__in=chosen).only("pk", "code", "title"))
    mappings = (
        ControlCriterion.objects.for_org(org)
        .filter(control_id__in=chosen)
        .select_related("criterion__series")
        .order_by("criterion__position")
    )
    area_of: dict[int, tuple[int, str]] = {}
    for m in mappings:
        series = m.criterion.series
        area_of.setdefault(m.control_id, (series.position, f"{series.key} {series.name}"))
    operating: set[int] = set()
    if audit is not None:
        readiness = audit_readiness(audit, today=today, only_controls=chosen)
        operating = {pk for pk, c in readiness.controls.items() if c.operating}
    areas: dict[tuple[int, str], Area] = {}
    for control in sorted(controls, key=lambda c: c.code):
        key = area_of.get(control.pk, (10_000, OTHER_AREA))
        area = areas.setdefault(key, Area(key[1]))
        area.controls.append(ControlState(control.code, control.title, control.pk in operating))
    return [areas[k] for k in sorted(areas)]


def listed_documents(org: Organization) -> QuerySet[TrustDocument]:
    """Documents offered (not withdrawn), with their policy version."""
    return (
        TrustDocument.objects.for_org(org)
        .filter(withdrawn_at__isnull=True)
        .select_related("policy_version__policy")
    )


def public_document(org: Organization, pk: int) -> TrustDocument:
    """A listed document of ``org`` (public or private) or NotFound."""
    doc = listed_documents(org).filter(pk=pk).first()
    if doc is None:
        raise NotFound("No such document.")
    return doc


def page_content(center: TrustCenter, today: dt.date | None = None) -> dict:
    """What the public page shows, and nothing else."""
    today = today or timezone.localdate()
    org = center.organization
    audit = center.audit
    categories: list[str] = []
    if audit is not None and center.show_categories:
        categories = list(
            AuditCategory.objects.for_org(org)
            .filter(audit=audit)
            .order_by("category__position")
            .values_list("category__name", flat=True)
        )
    subprocessors: list[Vendor] = []
    if center.show_subprocessors:
        subprocessors = list(
            Vendor.objects.for_org(org)
            .filter(is_subprocessor=True)
            .filter(Q(contract_end__isnull=True) | Q(contract_end__gte=today))
            .only("name", "service")
        )
    return {
        "center": center,
        "organization_name": org.name,
        "audit_status": audit_status(audit),
        "audit_completed": audit is not None and audit.status == "completed",
        "categories": categories,
        "areas": control_areas(org, audit, today),
        "subprocessors": subprocessors,
        "documents": list(listed_documents(org)),
    }


# -- owners' pages ---------------------------------------------------------------------------


def requests_list(org: Organization, status: str = "") -> QuerySet[TrustRequest]:
    rows = TrustRequest.objects.for_org(org).select_related("document")
    if status in RequestStatus.values:
        rows = rows.filter(status=status)
    return rows


def request_get(org: Organization, pk: int) -> TrustRequest:
    found = TrustRequest.objects.for_org(org).select_related("document").filter(pk=pk).first()
    if found is None:
        raise NotFound("No such request.")
    return found


def document_get(org: Organization, pk: int) -> TrustDocument:
    found = listed_documents(org).filter(pk=pk).first()
    if found is None:
        raise NotFound("No such document.")
    return found


def approved_policy_versions(org: Organization) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.for_org(org)
        .filter(state=VersionState.APPROVED)
        .select_related("policy")
        .order_by("policy__title", "-number")
    )


def control_choices(org: Organization) -> list[tuple[int, str]]:
    rows = Control.objects.for_org(org).order_by("code").values_list("pk", "code", "title")
    return [(pk, f"{code} {title}") for pk, code, title in rows]


def audit_choices(org: Organization) -> list[tuple[int, str]]:
    audits = Audit.objects.for_org(org).order_by("-created_at")
    return [(a.pk, f"{a.name} ({audit_status(a)})") for a in audits]


def audit_get(org: Organization, pk: int) -> Audit:
    found = Audit.objects.for_org(org).filter(pk=pk).first()
    if found is None:
        raise NotFound("No such audit.")
    return found
