"""The auditor portal's test world (an organization with a granted Type 1 audit, evidence in
and out of its scope, a report, a failing automated test, a sample) and its URLs, shared by the
portal, PBC and activity tests."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Check, Connection
from monitoring.services import CheckSpec, ResultSpec, results_ingest
from reports import pbc
from reports.models import (
    InfoRequest,
    Population,
    PopulationItem,
    Report,
    ReportStatus,
    Sample,
    SampleItem,
)
from reports.services import auditor_access_grant
from tenants.activity import Actor
from tenants.models import Role
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.conftest import file_version
from tests.reports.portal_people_world import add_people, people_urls
from tests.reports.portal_registers_world import add_registers, register_urls


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _done_report(audit, payload=b"col1,col2\n"):
    report = Report(
        organization_id=audit.organization_id,
        audit=audit,
        kind="csv",
        status=ReportStatus.DONE,
        progress=100,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        finished_at=timezone.now(),
    )
    report.file.save("ignored", ContentFile(payload), save=False)
    report.save()
    return report


class World:
    pass


def build_world(org, manager, make_member, make_audit) -> World:
    """An organization with an auditor granted one of two audits, a mapped control with a file
    and a link version, an unmapped control with a file, and a finished report per audit."""
    w = World()
    w.org, w.manager = org, manager
    w.auditor = make_member(org, Role.AUDITOR)
    w.audit = make_audit(org, name="FY25 Type 1")
    w.other_audit = make_audit(org, name="Secret audit")
    w.control = control_map(
        ControlFactory(organization=org, owner=manager, code="AC-01", title="Access reviews"),
        "CC6.1",
    )
    w.unmapped = ControlFactory(organization=org, owner=manager, code="ZZ-99", title="Unmapped")
    w.version = file_version(
        w.control,
        "access-review.pdf",
        b"%PDF-1.4 review",
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    )
    w.link = evidence_row(w.control, dt.date(2025, 5, 1))
    w.hidden_version = file_version(
        w.unmapped, "hidden.pdf", b"%PDF-1.4 hidden", dt.date(2025, 6, 1), dt.date(2025, 6, 30)
    )
    w.report = _done_report(w.audit)
    w.other_report = _done_report(w.other_audit)
    w.samples = {audit.pk: _sampled(audit, w.control) for audit in (w.audit, w.other_audit)}
    w.check = _failing_check(org, manager)
    add_people(w)
    add_registers(w)
    auditor_access_grant(membership=manager, auditor=w.auditor, audit=w.audit)
    return w


def _failing_check(org, manager) -> Check:
    """An automated test of CC6.1 (the mapped control) failing on one resource."""
    connection = Connection.objects.create(organization=org, kind="custom", name="CI tests")
    spec = CheckSpec(key="mfa", title="MFA enforced", severity="high", criteria=("CC6.1",))
    results_ingest(
        organization=org,
        connection=connection,
        batch=[(spec, [ResultSpec(resource="root", status="fail")])],
        source="push",
        actor=Actor.system("test"),
    )
    return Check.objects.for_org(org).get(key="mfa")


def _sampled(audit, control):
    """A population of one item and a sample of it, written directly (the portal pages do not
    care that the audit is a Type 1)."""
    org = audit.organization_id
    population = Population.objects.create(
        organization_id=org,
        audit=audit,
        control=control,
        version=1,
        source="csv",
        sha256="0" * 64,
        row_count=1,
        supplied_by_label="test",
    )
    row = PopulationItem.objects.create(
        organization_id=org, population=population, item_id="E1", date=dt.date(2025, 3, 1)
    )
    sample = Sample.objects.create(
        organization_id=org,
        population=population,
        audit=audit,
        control=control,
        number=1,
        size=1,
        suggested_size=1,
        method="manual",
        drawn_by_label="test",
    )
    SampleItem.objects.create(organization_id=org, sample=sample, population_item=row, rank=1)
    return population, sample


@pytest.fixture
def world(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


def _request(w) -> InfoRequest:
    """A request for information raised by the world's auditor on the granted audit."""
    return pbc.request_raise(
        membership=w.auditor,
        audit=w.audit,
        title="Access review",
        due_date=timezone.localdate() + dt.timedelta(days=7),
        control=w.control,
    )


def _portal_urls(w, audit, control, version, report, info):
    """Every portal URL but the home page, inside ``audit`` (keep in step with reports.urls)."""
    population, sample = w.samples[audit.pk]
    return [
        _url("portal_populations", w.org, audit_pk=audit.pk),
        _url("portal_population", w.org, audit_pk=audit.pk, pk=population.pk),
        _url("portal_population_export", w.org, audit_pk=audit.pk, pk=population.pk),
        _url("portal_sample", w.org, audit_pk=audit.pk, pk=sample.pk),
        _url("portal_audit", w.org, audit_pk=audit.pk),
        _url("portal_requests", w.org, audit_pk=audit.pk),
        _url("portal_request", w.org, audit_pk=audit.pk, pk=info.pk),
        _url("portal_control", w.org, audit_pk=audit.pk, pk=control.pk),
        _url("portal_evidence_item", w.org, audit_pk=audit.pk, pk=version.item_id),
        _url("portal_version_download", w.org, audit_pk=audit.pk, pk=version.pk),
        _url("portal_report_download", w.org, audit_pk=audit.pk, pk=report.pk),
        _url("portal_tests", w.org, audit_pk=audit.pk),
        _url("portal_test", w.org, audit_pk=audit.pk, pk=w.check.pk),
        *people_urls(w, audit),
        *register_urls(w, audit),
    ]
