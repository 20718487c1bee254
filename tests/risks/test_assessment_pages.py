"""Risk assessment pages and API: managers run and read them (pages and keys), contributors,
auditors and read-only or contributor keys are refused; another organization's assessment is
a 404 on the page, the API and the downloads; downloads are attachments with the stored bytes
(SHA-256 as recorded), ``nosniff`` and the sandboxing CSP; the PDF before it is rendered is a
409; bad dates are a 400 naming the field; the register's header says when the last ran."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from risks.assessment import assessment_run
from risks.models import AssessmentStatus, RiskAssessment
from tenants.models import ActivityEntry, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def done(org, manager, add):
    add("Ransomware on the file servers", inherent_likelihood=5, inherent_impact=5)
    add("Office break-in", inherent_likelihood=1, inherent_impact=2)
    return assessment_run(membership=manager, notes="Board meeting.")


@pytest.fixture
def theirs(other_org, outsider):
    return assessment_run(membership=outsider)


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def api(org) -> str:
    return f"/api/v1/orgs/{org.slug}/risks/assessments/"


def test_the_pages_show_the_assessment(org, manager, done, client_for):
    client = client_for(manager)
    listed = client.get(url("risk_assessments", org))
    assert listed.status_code == 200
    assert done.performed_on.strftime("%-d %b %Y") in listed.content.decode()
    page = client.get(url("risk_assessment", org, pk=done.pk)).content.decode()
    assert "Ransomware on the file servers" in page and done.csv_sha256 in page
    assert "Rendering" in page and 'hx-trigger="every 3s"' in page
    assert "Board meeting." in page
    register = client.get(url("risks", org)).content.decode()
    assert "Last assessment" in register and "next due" in register
    form = client.get(url("risk_assessment_run", org)).content.decode()
    assert "2 risks" in form and "No control of the organization is mapped" in form


def test_the_status_block_stops_polling_when_ready(org, manager, done, client_for):
    RiskAssessment.objects.for_org(org).filter(pk=done.pk).update(
        status=AssessmentStatus.READY, pdf_file="x.pdf", pdf_sha256="ab" * 32
    )
    block = client_for(manager).get(url("risk_assessment_status", org, pk=done.pk))
    assert "Download the PDF" in block.content.decode()
    assert "hx-trigger" not in block.content.decode()


def test_running_from_the_page(org, manager, add, client_for):
    add()
    client = client_for(manager)
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    refused = client.post(url("risk_assessment_run", org), {"performed_on": future})
    assert refused.status_code == 400 and "future" in refused.content.decode()
    assert not RiskAssessment.objects.for_org(org).exists()
    today = timezone.localdate().isoformat()
    made = client.post(url("risk_assessment_run", org), {"performed_on": today, "notes": "Yes"})
    found = RiskAssessment.objects.for_org(org).get()
    assert made.status_code == 302 and made["Location"] == url("risk_assessment", org, pk=found.pk)


def test_downloads_are_the_stored_bytes(org, manager, done, client_for):
    response = client_for(manager).get(url("risk_assessment_download", org, pk=done.pk, kind="csv"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == done.csv_sha256
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"risk-assessment-{done.performed_on.isoformat()}.csv" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    pdf = client_for(manager).get(url("risk_assessment_download", org, pk=done.pk, kind="pdf"))
    assert pdf.status_code == 409  # still rendering
    assert ActivityEntry.objects.for_org(org).filter(action="risk_assessment.download").exists()


def test_other_roles_are_refused_on_pages(org, done, contributor, auditor, client_for):
    for who in (contributor, auditor):
        client = client_for(who)
        for name, kwargs in (
            ("risk_assessments", {}),
            ("risk_assessment_run", {}),
            ("risk_assessment", {"pk": done.pk}),
            ("risk_assessment_download", {"pk": done.pk, "kind": "csv"}),
        ):
            # Auditors live in the portal: every org page sends them there.
            status = client.get(url(name, org, **kwargs)).status_code
            assert status == (302 if who == auditor else 403), (who.role, name)
        refused = client.post(url("risk_assessment_run", org), {})
        assert refused.status_code in (302, 403)
    assert RiskAssessment.objects.for_org(org).count() == 1


def test_another_organizations_assessment_is_not_found(org, manager, done, theirs, client_for):
    client = client_for(manager)
    for name, kwargs in (
        ("risk_assessment", {"pk": theirs.pk}),
        ("risk_assessment_status", {"pk": theirs.pk}),
        ("risk_assessment_download", {"pk": theirs.pk, "kind": "csv"}),
        ("risk_assessment", {"pk": "nonsense"}),
        ("risk_assessment", {"pk": "9" * 30}),
    ):
        assert client.get(url(name, org, **kwargs)).status_code == 404, name
    assert client.post(url("risk_assessment_retry", org, pk=theirs.pk)).status_code == 404
    assert (
        client.get(url("risk_assessment_download", org, pk=done.pk, kind="exe")).status_code == 404
    )


def test_the_api_lists_reads_runs_and_downloads(org, manager, add, key_client, api_for, theirs):
    add()
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    made = client.post(api(org), {"notes": "By the API."})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["risk_count"] == 1 and body["rows"][0]["title"] == "Account takeover"
    assert body["status"] == "rendering" and body["performed_by_label"]
    listed = client.get(api(org)).json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    assert "rows" not in listed["results"][0]
    one = api_for(manager).get(f"{api(org)}{body['id']}/")
    assert one.status_code == 200 and one.json()["notes"] == "By the API."
    csv = client.get(f"{api(org)}{body['id']}/csv/")
    assert csv.status_code == 200
    assert hashlib.sha256(b"".join(csv.streaming_content)).hexdigest() == body["csv_sha256"]
    assert client.get(f"{api(org)}{body['id']}/pdf/").status_code == 409
    for path in (f"{theirs.pk}/", f"{theirs.pk}/csv/", f"{theirs.pk}/pdf/", "x/"):
        assert client.get(f"{api(org)}{path}").status_code == 404, path
    assert client.post(f"{api(org)}{theirs.pk}/retry/").status_code == 404


def test_the_api_refuses_bad_input_and_other_roles(org, add, key_client, api_for, contributor):
    add()
    client = key_client(org, Role.ADMIN)
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    refused = client.post(api(org), {"performed_on": future})
    assert refused.status_code == 400 and "future" in str(refused.json())
    assert client.post(api(org), {"performed_on": "soon"}).status_code == 400
    assert client.post(api(org), {"unknown": 1}).status_code == 400
    for other in (
        key_client(org, "read_only"),
        key_client(org, Role.CONTRIBUTOR),
        api_for(contributor),
    ):
        assert other.get(api(org)).status_code == 403
        assert other.post(api(org), {}).status_code == 403
    assert not RiskAssessment.objects.for_org(org).exists()


def test_retry_only_a_failed_pdf(org, manager, done, client_for):
    client = client_for(manager)
    client.post(url("risk_assessment_retry", org, pk=done.pk))
    assert RiskAssessment.objects.for_org(org).get(pk=done.pk).status == "rendering"
    RiskAssessment.objects.for_org(org).filter(pk=done.pk).update(
        status=AssessmentStatus.FAILED, error="boom"
    )
    client.post(url("risk_assessment_retry", org, pk=done.pk))
    again = RiskAssessment.objects.for_org(org).get(pk=done.pk)
    assert (again.status, again.error) == ("rendering", "")
    assert ActivityEntry.objects.for_org(org).filter(action="risk_assessment.retry").count() == 1


def test_the_list_and_detail_take_constant_queries(
    org, manager, add, client_for, django_assert_max_num_queries
):
    client = client_for(manager)
    for n in range(3):
        add(f"Risk {n}")
    assessment_run(membership=manager)
    first = RiskAssessment.objects.for_org(org).get()
    with django_assert_max_num_queries(20):
        client.get(url("risk_assessment", org, pk=first.pk))
    for n in range(3, 60):
        add(f"Risk {n}")
    for _ in range(4):
        assessment_run(membership=manager)
    last = RiskAssessment.objects.for_org(org).order_by("-id").first()
    with django_assert_max_num_queries(20):
        assert client.get(url("risk_assessments", org)).status_code == 200
    with django_assert_max_num_queries(20):
        page = client.get(url("risk_assessment", org, pk=last.pk), {"page": 2})
    assert "Page 2 of 2" in page.content.decode()
