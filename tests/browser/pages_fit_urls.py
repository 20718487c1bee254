"""The pages ``test_pages_fit`` visits, by role: every main page of the organization for the
owner, the compliance manager and the contributor (``org_pages``), the auditor portal's for the
auditor (``portal_pages``). Built from the demo organization plus the sweep's overflowing data
(the trust center is made here, since only its pages need it)."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from controls.demo import demo_member  # the demo's first member of a role
from controls.models import Audit, Control, ControlTemplate, System
from evidence.models import EvidenceItem
from monitoring.models import Check, Connection
from monitoring.selectors_audit import audit_checks
from people.models import Person
from policies.models import Policy, PolicyVersion
from reports.models import InfoRequest
from reports.models_sampling import Population, Sample
from reports.selectors import audit_scope_controls
from risks.models import Risk, RiskAssessment
from tenants.models import Invitation, Organization, Role
from trust.models import TrustCenter, TrustControl, TrustDocument, TrustRequest
from vendors.models import Vendor

LONG_WORD = "Quarterly-access-review-of-every-production-database-account-and-its-owner"
LONG_EMAIL = "first.middle.lastname.of-a-new-colleague@subsidiary.acme-holdings.example.com"


def pages_for(role: str, org: Organization, long_control: Control) -> dict[str, str]:
    """The pages ``role`` (owner, manager, contributor or auditor) visits, by a short name. A
    page refused to the role is visited too: its refusal must fit as well."""
    return portal_pages(org) if role == "auditor" else org_pages(org, long_control)


def _trust_center(org: Organization, long_control: Control, type2: Audit) -> tuple[str, int]:
    """A published trust center with what overflows: the long control, a long headline, a
    private document with a long title and a request from a long e-mail address. Its address
    and the private document's id."""
    center = TrustCenter(
        organization=org,
        published=True,
        slug="acme-trust-sweep",
        headline=f"Acme security and compliance {LONG_WORD}",
        intro="How we keep our customers' data safe.",
        audit=type2,
        show_subprocessors=True,
        nda_text="Keep everything you receive confidential.",
        # The settings page's custom-domain section: a long name and its TXT record.
        custom_domain="security-and-compliance-documents.acme-acme-acme-acme-acme-corporation.example.com",
        domain_token="t" * 32,
    )
    center.save()
    controls = Control.objects.for_org(org).order_by("code")[:6]
    for control in [long_control, *controls]:
        TrustControl(organization=org, control=control).save()
    version = PolicyVersion.objects.for_org(org).filter(state="approved").first()
    TrustDocument(
        organization=org,
        title="Access control policy",
        visibility="public",
        policy_version=version,
    ).save()
    private = TrustDocument(
        organization=org,
        title=f"SOC 2 Type 2 report {LONG_WORD}",
        visibility="private",
        file="trust/sweep.pdf",
        file_name="soc2-report.pdf",
        content_type="application/pdf",
    )
    private.save()
    TrustRequest(
        organization=org,
        document=private,
        name="A Visitor With A Long Name",
        email=LONG_EMAIL,
        company="Subsidiary of Acme Holdings International",
        nda_text=center.nda_text,
        nda_sha256="0" * 64,
        nda_accepted_at=timezone.now(),
        ip_address="203.0.113.9",
    ).save()
    return center.slug, private.pk


def org_pages(org: Organization, long_control: Control) -> dict[str, str]:
    """Every main page of the organization (the auditor portal apart), by a short name."""
    slug = org.slug

    def url(name: str, **kwargs: object) -> str:
        return reverse(name, kwargs={"org_slug": slug, **kwargs})

    connection_pk = Connection.objects.for_org(org).order_by("pk").first().pk

    type1 = Audit.objects.for_org(org).get(audit_type="type1")
    type2 = Audit.objects.for_org(org).get(audit_type="type2")
    demo_control = Control.objects.for_org(org).exclude(pk=long_control.pk).order_by("code").first()
    file_item = EvidenceItem.objects.for_org(org).get(title=f"{LONG_WORD}-file")
    pushed = EvidenceItem.objects.for_org(org).filter(title__endswith="monitoring export").first()
    policy = Policy.objects.for_org(org).get(library_key="access-control")
    request = InfoRequest.objects.for_org(org).filter(audit=type1).order_by("number").first()
    population = Population.objects.for_org(org).first()
    sample = Sample.objects.for_org(org).first()
    system = System.objects.for_org(org).first()
    invitation = Invitation.objects.for_org(org).first()
    contributor = demo_member(org, Role.CONTRIBUTOR)
    trust_slug, trust_doc = _trust_center(org, long_control, type2)
    person = Person.objects.for_org(org).get(full_name=LONG_WORD)
    pages = {
        "home": url("org_home"),
        "controls": url("control_list"),
        "controls-filtered": url("control_list") + "?status=in_progress",
        "control": url("control_detail", pk=demo_control.pk),
        "control-long": url("control_detail", pk=long_control.pk),
        "control-edit": url("control_edit", pk=long_control.pk),
        "control-new": url("control_create"),
        "deviation-new": url("deviation_create", pk=long_control.pk),
        "library": url("library"),
        "template": url("template_detail", code=ControlTemplate.objects.order_by("pk")[0].code),
        "systems": url("system_list"),
        "system": url("system_edit", pk=system.pk),
        "evidence": url("evidence_overview"),
        "evidence-item-file": url("evidence_item", pk=file_item.pk),
        "evidence-item-pushed": url("evidence_item", pk=pushed.pk),
        "evidence-add": url("evidence_add", control_pk=long_control.pk),
        "audits": url("audit_list"),
        "audit-new": url("audit_create"),
        "audit-type1": url("audit_detail", pk=type1.pk),
        "audit-type2": url("audit_detail", pk=type2.pk),
        **{
            f"wizard-{step}": url("audit_step", pk=type2.pk, step=step)
            for step in ("basics", "scope", "assessment", "controls", "firm")
        },
        "reports": url("report_list", audit_pk=type1.pk),
        "requests": url("request_list", audit_pk=type1.pk),
        "request": url("request_detail", audit_pk=type1.pk, pk=request.pk),
        "populations": url("population_list", audit_pk=type2.pk),
        "population": url("population_detail", audit_pk=type2.pk, pk=population.pk),
        "sample": url("sample_detail", audit_pk=type2.pk, pk=sample.pk),
        "catalog": url("catalog"),
        "criterion": url("criterion_detail", ref="CC6.1"),
        "members": url("members"),
        "member-remove": url("member_remove", pk=contributor.pk),
        "invitation-revoke": url("invitation_revoke", pk=invitation.pk),
        "monitoring": url("monitoring"),
        "monitoring-check": url(
            "monitoring_check", pk=Check.objects.for_org(org).get(key=f"{LONG_WORD}-key").pk
        ),
        "policies": url("policies"),
        "policy-library": url("policy_library"),
        "policy-new": url("policy_new"),
        "policy": url("policy_detail", pk=policy.pk),
        "policy-edit": url("policy_edit", pk=policy.pk),
        "policy-version": url("policy_version", pk=policy.pk, number=1),
        "policy-acceptance": url("policy_acceptance", pk=policy.pk),
        # The demo's policies as evidence by themselves (approval, acceptance snapshot).
        "evidence-item-policy-approval": url("evidence_item", pk=_system_item(org, "policy:")),
        "evidence-item-policy-acceptance": url(
            "evidence_item", pk=_system_item(org, "policy-acceptance:")
        ),
        "people": url("people"),
        "people-leavers": url("people") + "?state=leavers",
        "person": url("person_detail", pk=person.pk),
        "person-edit": url("person_edit", pk=person.pk),
        "person-new": url("person_new"),
        "people-import": url("people_import"),
        "checklists": url("checklists"),
        "checklists-late": url("checklists") + "?late=on&state=all",
        "checklist-template": url("checklist_template", kind="offboarding"),
        "checklist-mine": url("checklist_mine"),
        "risks": url("risks"),
        "risk": url("risk_detail", pk=Risk.objects.for_org(org).order_by("pk")[0].pk),
        "risk-new": url("risk_new"),
        "risk-library": url("risk_library"),
        "risk-heatmap": url("risk_heatmap"),
        "risk-matrix": url("risk_matrix"),
        "vendors": url("vendors"),
        "vendor-rules": url("vendor_rules"),
        "risk-assessments": url("risk_assessments"),
        "risk-assessment-run": url("risk_assessment_run"),
        "risk-assessment": url(
            "risk_assessment", pk=RiskAssessment.objects.for_org(org).order_by("pk")[0].pk
        ),
        "vendor-import": url("vendor_import"),
        "monitoring-connections": url("monitoring_connections"),
        "monitoring-connection-new": url("monitoring_connection_add"),
        "monitoring-connection": url("monitoring_connection", pk=connection_pk),
        "monitoring-connection-edit": url("monitoring_connection_edit", pk=connection_pk),
        "api-keys": url("api_keys"),
        "webhooks": url("webhook_endpoints"),
        "provisioning": url("scim_provisioning"),
        "security": url("org_security"),
        "sso-settings": url("sso_settings"),
        "activity": url("activity"),
        "trust-settings": url("trust_settings"),
        "trust-requests": url("trust_requests"),
        "trust-public": reverse("trust_page", kwargs={"slug": trust_slug}),
        "trust-request": reverse("trust_request", kwargs={"slug": trust_slug, "pk": trust_doc}),
        "mfa": reverse("mfa_index"),
        "account-email": reverse("account_email"),
        "orgs": reverse("org_list"),
        "org-new": reverse("org_create"),
    }
    # The answer page is the request's own page with the answer form (open requests only).
    answerable = InfoRequest.objects.for_org(org).filter(status="open").order_by("number").first()
    if answerable is not None:
        pages["request-answer"] = url(
            "request_detail", audit_pk=answerable.audit_id, pk=answerable.pk
        )
    return pages


def _system_item(org: Organization, prefix: str) -> int:
    """An evidence item the app writes itself (policies.evidence), by its source's prefix."""
    items = EvidenceItem.objects.for_org(org).filter(system_key__startswith=prefix)
    return items.order_by("pk").values_list("pk", flat=True)[0]


def portal_pages(org: Organization) -> dict[str, str]:
    slug = org.slug

    def url(name: str, **kwargs: object) -> str:
        return reverse(name, kwargs={"org_slug": slug, **kwargs})

    pages = {"portal": url("portal_home")}
    for audit in Audit.objects.for_org(org).order_by("audit_type"):
        kind = audit.audit_type
        control = Control.objects.for_org(org).filter(evidence_items__isnull=False).first()
        item = EvidenceItem.objects.for_org(org).filter(control=control).first()
        pages[f"portal-{kind}"] = url("portal_audit", audit_pk=audit.pk)
        pages[f"portal-{kind}-control"] = url("portal_control", audit_pk=audit.pk, pk=control.pk)
        pages[f"portal-{kind}-evidence"] = url(
            "portal_evidence_item", audit_pk=audit.pk, pk=item.pk
        )
        pages[f"portal-{kind}-policy-evidence"] = url(
            "portal_evidence_item", audit_pk=audit.pk, pk=_system_item(org, "policy-acceptance:")
        )
        pages[f"portal-{kind}-requests"] = url("portal_requests", audit_pk=audit.pk)
        pages[f"portal-{kind}-tests"] = url("portal_tests", audit_pk=audit.pk)
        scope = audit_scope_controls(audit).values("pk")
        check = audit_checks(audit, scope).order_by("-title").first()
        if check is not None:
            pages[f"portal-{kind}-test"] = url("portal_test", audit_pk=audit.pk, pk=check.pk)
        request = InfoRequest.objects.for_org(org).filter(audit=audit).first()
        if request is not None:
            pages[f"portal-{kind}-request"] = url(
                "portal_request", audit_pk=audit.pk, pk=request.pk
            )
        pages[f"portal-{kind}-populations"] = url("portal_populations", audit_pk=audit.pk)
        population = Population.objects.for_org(org).filter(audit=audit).first()
        if population is not None:
            pages[f"portal-{kind}-population"] = url(
                "portal_population", audit_pk=audit.pk, pk=population.pk
            )
            sample = Sample.objects.for_org(org).filter(population=population).first()
            pages[f"portal-{kind}-sample"] = url("portal_sample", audit_pk=audit.pk, pk=sample.pk)
        pages.update(_portal_register_pages(org, audit, url))
    return pages


def _portal_register_pages(org: Organization, audit: Audit, url) -> dict[str, str]:
    """The portal's risk register and vendor pages of ``audit`` (the demo's risks, its vendor
    with the most documents)."""
    kind = audit.audit_type
    pages = {
        f"portal-{kind}-risks": url("portal_risks", audit_pk=audit.pk),
        f"portal-{kind}-risk-assessments": url("portal_risk_assessments", audit_pk=audit.pk),
        f"portal-{kind}-vendors": url("portal_vendors", audit_pk=audit.pk),
    }
    risk = Risk.objects.for_org(org).order_by("-residual_score", "pk").first()
    if risk is not None:
        pages[f"portal-{kind}-risk"] = url("portal_risk", audit_pk=audit.pk, pk=risk.pk)
    vendor = Vendor.objects.for_org(org).annotate(n=Count("documents")).order_by("-n", "pk").first()
    if vendor is not None:
        pages[f"portal-{kind}-vendor"] = url("portal_vendor", audit_pk=audit.pk, pk=vendor.pk)
    return pages
