"""People and policies in the auditor portal, for a granted audit: the approved policy versions
(read, or as PDF), their acceptance records (paginated, by version, as CSV), the training
records per requirement (certificates downloadable), and the onboarding/offboarding checklists
of the people sampled from the roster's joiners and leavers (``selectors_portal_people``).

These pages show personal data, which only managers and auditors with a grant may see: they
are served to auditor memberships on their granted audits (another audit, a revoked or expired
grant get "not found") and, to preview what auditors see, to the members who manage the roster
(contributors get "not found", like the API). GET only;
a certificate downloaded or an export taken is in the organization's activity log.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from controls.models import Audit
from policies import pdf
from policies.exports import acceptance_csv_response
from policies.markdown import render as render_markdown
from policies.models import Acceptance, PolicyVersion
from reports import selectors
from reports import selectors_portal_people as people
from reports.access import portal_personal_data_record
from soc2app.client_ip import client_ip
from tenants import permissions
from tenants.models import Membership, Role
from tenants.permissions import Action
from training.downloads import certificate_response

PAGE_SIZE = 50
ANONYMISED = "Anonymised person"
CSV_EXTRA_HEADER = ["Consent", "User agent"]


def sees_people(membership: Membership) -> bool:
    return membership.role == Role.AUDITOR or permissions.can(membership, Action.PEOPLE_MANAGE)


def portal_people_audit(membership: Membership, audit_pk: object) -> Audit:
    """A granted audit of an auditor membership, or any audit for a roster manager's preview;
    "not found" for anyone else."""
    if not sees_people(membership):
        raise Http404("No such audit.")
    return selectors.portal_audit_get(membership, audit_pk)


@require_GET
def portal_people(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    context = {
        "audit": audit,
        "end": people.audit_period_end(audit),
        "versions": list(people.policy_versions(audit)),
        "requirements": list(people.training_requirements(audit)),
        "samples": list(people.roster_samples(audit)),
    }
    return render(request, "reports/portal/people.html", context)


@require_GET
def portal_policy_version(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    version = people.policy_version_get(audit, pk)
    context = {
        "audit": audit,
        "version": version,
        "policy": version.policy,
        "html": render_markdown(version.body, request.organization.name),
    }
    return render(request, "reports/portal/policy_version.html", context)


@require_GET
def portal_policy_version_pdf(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    version = people.policy_version_get(audit, pk)
    response = HttpResponse(
        pdf.version_pdf(version, request.organization.name), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{pdf.pdf_filename(version)}"'
    return response


def _person(acceptance: Acceptance) -> tuple[str, str, str]:
    person = acceptance.person
    if person.anonymised_at:
        return ANONYMISED, "", ""
    return person.full_name, person.email, person.department


@require_GET
def portal_acceptances(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    """Acceptance records of the versions the audit sees, or of one (``?version=<id>``)."""
    audit = portal_people_audit(request.membership, audit_pk)
    raw = request.GET.get("version", "")
    version = people.policy_version_get(audit, raw) if raw else None
    rows = people.acceptances(audit, version)
    if request.GET.get("format") == "csv":
        return _acceptances_csv(request, audit, version, rows)
    context = {
        "audit": audit,
        "version": version,
        "versions": list(people.policy_versions(audit)),
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": f"version={version.pk}" if version else "",
        "anonymised": ANONYMISED,
    }
    return render(request, "reports/portal/acceptances.html", context)


def _acceptances_csv(
    request: HttpRequest,
    audit: Audit,
    version: PolicyVersion | None,
    rows: QuerySet[Acceptance],
) -> HttpResponse:
    portal_personal_data_record(
        membership=request.membership,
        action="export",
        target=version or audit,
        object_repr=f"Acceptance records ({version.policy.title} v{version.number})"
        if version
        else f"Acceptance records ({audit.name})",
        changes={"client_ip": [None, client_ip(request)]},
    )
    return acceptance_csv_response(
        (
            [
                *_person(a),
                a.version.policy.title,
                a.version.number,
                a.accepted_at,
                a.get_channel_display(),
                a.ip_address or "",
                a.text_sha256,
                a.consent,
                a.user_agent,
            ]
            for a in rows.iterator(chunk_size=2000)
        ),
        f"acceptance-audit-{audit.pk}" + (f"-version-{version.pk}" if version else "") + ".csv",
        CSV_EXTRA_HEADER,
    )


@require_GET
def portal_training(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    requirement = people.training_requirement_get(audit, pk)
    rows = people.training_completions(audit, requirement)
    context = {
        "audit": audit,
        "end": people.audit_period_end(audit),
        "requirement": requirement,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "anonymised": ANONYMISED,
    }
    return render(request, "reports/portal/training.html", context)


@require_GET
def portal_certificate(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    completion = people.training_certificate_get(audit, pk)
    response = certificate_response(completion)
    try:
        portal_personal_data_record(
            membership=request.membership,
            action="download",
            target=completion,
            object_repr=f"Certificate: {completion.requirement.title}",
            changes={
                "sha256": [None, completion.certificate_sha256],
                "client_ip": [None, client_ip(request)],
            },
        )
    except BaseException:
        response.close()  # releases the storage file handle
        raise
    return response


@require_GET
def portal_checklists(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = portal_people_audit(request.membership, audit_pk)
    context = {
        "audit": audit,
        "groups": people.sampled_checklists(audit, timezone.localdate()),
        # Evidence of an item links to the portal's download when its control is in scope.
        "in_scope": set(selectors.audit_scope_controls(audit).values_list("pk", flat=True)),
        "anonymised": ANONYMISED,
    }
    return render(request, "reports/portal/checklists.html", context)
