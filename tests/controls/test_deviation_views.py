"""The exceptions list on the dashboard and in the auditor portal, the plain figures beside
the score, and the deviation pages (managers write; contributors and auditors read)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from controls.deviations import deviation_record
from controls.models import Deviation
from reports.services import auditor_access_grant
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, control_map, evidence_row
from tests.isolation import assert_foreign_object_404

D = dt.date
pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _recorded(manager, control):
    return deviation_record(
        membership=manager,
        control=control,
        period_start=D(2025, 4, 1),
        period_end=D(2025, 6, 30),
        what_happened="Skipped.",
        cause="Left.",
        remediation="Deputy.",
    )


@pytest.fixture
def audit(org, make_audit):
    return make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))


@pytest.fixture
def review(org, manager):
    control = ControlFactory(
        organization=org, code="UAR-1", owner=manager, created_at=LONG_AGO, operation="manual"
    )
    control_map(control, "CC6.2")
    evidence_row(control, D(2025, 1, 1), D(2025, 12, 31))  # one year-long version
    return control


def test_dashboard_lists_exceptions_flags_and_plain_figures(
    org, manager, client_for, audit, review
):
    ControlFactory(organization=org, code="NEW-1", status="in_progress")  # not mapped
    body = client_for(manager).get(url("audit_detail", org, pk=audit.pk)).content.decode()

    assert 'id="exceptions"' in body
    assert "UAR-1 has no evidence for 3 quarters in a row" in body
    assert "Controls implemented</dt><dd><strong>1 of 1</strong>" in body
    assert "Periods evidenced</dt><dd><strong>1 of 4</strong> ended" in body
    create = url("deviation_create", org, pk=review.pk)
    assert f"{create}?period_start=2025-01-01&amp;period_end=2025-09-30" in body
    # The control's row says it is flagged; its coverage detail says why and links the
    # same deviation form.
    assert "1 flag" in body
    detail = client_for(manager).get(url("audit_coverage", org, pk=audit.pk, control_pk=review.pk))
    text = detail.content.decode()
    assert "covers 4 quarters; counts for the quarter of 31 Dec 2025" in text
    assert f"{create}?period_start=2025-01-01&amp;period_end=2025-09-30" in text


def test_a_manager_records_a_deviation_and_everyone_sees_the_response(
    org, manager, make_member, client_for, audit, review
):
    client = client_for(manager)
    page = client.get(
        url("deviation_create", org, pk=review.pk),
        {"period_start": "2025-04-01", "period_end": "2025-06-30"},
    )
    assert page.status_code == 200 and 'value="2025-04-01"' in page.content.decode()
    response = client.post(
        url("deviation_create", org, pk=review.pk),
        {
            "period_start": "2025-04-01",
            "period_end": "2025-06-30",
            "what_happened": "The Q2 review was skipped.",
            "cause": "Reviewer left.",
            "remediation": "Deputy named.",
            "remediation_date": "2025-07-15",
        },
    )
    assert response.status_code == 302
    assert ActivityEntry.objects.for_org(org).filter(object_type="controls.deviation").exists()
    detail = client.get(url("control_detail", org, pk=review.pk)).content.decode()
    assert 'id="deviations"' in detail and "The Q2 review was skipped." in detail

    contributor = client_for(make_member(org, Role.CONTRIBUTOR))
    body = contributor.get(url("audit_detail", org, pk=audit.pk)).content.decode()
    assert "The Q2 review was skipped." in body and "Deputy named. (15 Jul 2025)" in body
    assert "Record a deviation" not in body

    auditor = make_member(org, Role.AUDITOR)
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    portal = client_for(auditor).get(url("portal_audit", org, audit_pk=audit.pk))
    text = portal.content.decode()
    assert portal.status_code == 200
    assert "The Q2 review was skipped." in text and "Record a deviation" not in text


def test_bad_input_is_shown_on_the_form(org, manager, client_for, review):
    response = client_for(manager).post(
        url("deviation_create", org, pk=review.pk),
        {"period_start": "2025-06-30", "period_end": "2025-06-01", "what_happened": "x"},
    )
    assert response.status_code == 400
    assert not Deviation.objects.for_org(org).exists()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_contributors_and_auditors_cannot_record_or_delete(
    org, manager, make_member, client_for, review, role
):
    deviation = _recorded(manager, review)
    client = client_for(make_member(org, role))
    form = {"period_start": "2025-01-01", "period_end": "2025-01-31"}
    created = client.post(url("deviation_create", org, pk=review.pk), form)
    deleted = client.post(url("deviation_delete", org, pk=deviation.pk))
    assert created.status_code in (403, 302) and deleted.status_code in (403, 302)
    assert list(Deviation.objects.for_org(org)) == [deviation]


def test_another_organizations_rows_are_404(org, manager, outsider, client_for, review):
    deviation = _recorded(manager, review)
    stranger = client_for(outsider)
    other = outsider.organization
    assert_foreign_object_404(stranger, url("deviation_create", other, pk=review.pk))
    assert_foreign_object_404(
        stranger, url("deviation_delete", other, pk=deviation.pk), methods=("post",)
    )
    assert Deviation.objects.for_org(org).count() == 1
