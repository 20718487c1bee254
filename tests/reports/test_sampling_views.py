"""The sampling pages: the organization uploads (errors listed, nothing stored) and sees
samples with their PBC links; the auditor draws and marks results in the portal; other roles
and organizations are refused; list pages in a fixed number of queries."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports import populations, samples, selectors_sampling
from reports.models import Population, Sample, SampleItem
from tenants.models import Role
from tests.reports.conftest import hires_csv

pytestmark = pytest.mark.django_db


def _url(name, w, **kwargs):
    return reverse(name, kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk, **kwargs})


def _csv(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("hires.csv", data, content_type="text/csv")


def _population(w, n=60):
    return populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(n)
    )


def test_manager_uploads_a_csv_and_sees_it(sampling_world, client_for):
    w = sampling_world
    client = client_for(w.manager)
    data = hires_csv(60) + b"X-1,2025-05-05,=1+1\n"
    response = client.post(
        _url("population_list", w), {"control": w.control.pk, "source": "csv", "file": _csv(data)}
    )
    population = Population.objects.for_org(w.org).get()
    assert response.status_code == 302
    assert response["Location"] == _url("population_detail", w, pk=population.pk)
    page = client.get(response["Location"]).content.decode()
    assert population.sha256 in page and "Row 62: the description starts like" in page
    assert "Suggested size for 61 occurrences: <strong>7</strong>" in page


def test_a_bad_file_lists_its_rows_and_stores_nothing(sampling_world, client_for):
    w = sampling_world
    data = b"id,date,description\nA,2025-01-01,x\nA,2031-01-01,y\nB,2025-1-1,z\n"
    response = client_for(w.manager).post(
        _url("population_list", w), {"control": w.control.pk, "source": "csv", "file": _csv(data)}
    )
    body = response.content.decode()
    assert response.status_code == 400 and "Nothing was stored." in body
    assert (
        "Row 3: the id A repeats row 2." in body and "Row 4: the date &#x27;2025-1-1&#x27;" in body
    )
    assert not Population.objects.for_org(w.org).exists()


def test_built_from_evidence_on_the_page_and_empty_states(sampling_world, client_for, make_audit):
    w = sampling_world
    client = client_for(w.manager)
    assert "No population yet." in client.get(_url("population_list", w)).content.decode()
    response = client.post(
        _url("population_list", w), {"control": w.control.pk, "source": "evidence"}
    )
    assert response.status_code == 400
    assert "no evidence version ending inside the window" in response.content.decode()
    type1 = make_audit(w.org)
    page = client.get(reverse("population_list", args=[w.org.slug, type1.pk])).content.decode()
    assert "belong to Type 2 audits" in page


def test_manager_draws_and_sees_items_with_their_requests(sampling_world, client_for):
    w = sampling_world
    population = _population(w)
    client = client_for(w.manager)
    response = client.post(
        _url("population_detail", w, pk=population.pk),
        {"method": "seeded", "size": 6, "due_date": "2099-01-01"},
    )
    sample = Sample.objects.for_org(w.org).get()
    assert response.status_code == 302
    page = client.get(_url("sample_detail", w, pk=sample.pk)).content.decode()
    first = selectors_sampling.sample_items(sample).first()
    assert _url("request_detail", w, pk=first.request_id) in page and "PBC-1" in page
    assert 'name="result"' not in page  # managers do not record results
    again = client.post(
        _url("population_detail", w, pk=population.pk),
        {"method": "seeded", "size": 6, "due_date": "2099-01-01"},
    )
    assert again.status_code == 400 and "say why you draw again" in again.content.decode()
    # The draw reads back in the activity log (its changes hold no key named like a method).
    log = client.get(reverse("activity", kwargs={"org_slug": w.org.slug}))
    assert log.status_code == 200 and "sample.draw" in log.content.decode()


def test_auditor_draws_five_and_marks_an_exception_in_the_portal(sampling_world, client_for):
    w = sampling_world
    population = _population(w)
    client = client_for(w.auditor)
    refused = client.post(
        _url("portal_population", w, pk=population.pk),
        {"method": "seeded", "size": 5, "due_date": "2099-01-01"},
    )
    assert refused.status_code == 400 and "The suggested size is 6" in refused.content.decode()
    response = client.post(
        _url("portal_population", w, pk=population.pk),
        {"method": "seeded", "size": 5, "size_reason": "Low risk.", "due_date": "2099-01-01"},
    )
    sample = Sample.objects.for_org(w.org).get()
    assert response["Location"] == _url("portal_sample", w, pk=sample.pk)
    item = selectors_sampling.sample_items(sample).first()
    bad = client.post(response["Location"], {"item": item.pk, "result": "exception"})
    assert bad.status_code == 400 and "Describe the exception" in bad.content.decode()
    client.post(response["Location"], {"item": item.pk, "result": "exception", "note": "Late."})
    page = client.get(response["Location"]).content.decode()
    assert "Late." in page and _url("portal_request", w, pk=item.request_id) in page
    assert SampleItem.objects.for_org(w.org).get(pk=item.pk).result == "exception"


def test_contributor_and_outsider_are_refused(sampling_world, client_for, make_member, outsider):
    w = sampling_world
    population = _population(w)
    contributor = client_for(make_member(w.org, Role.CONTRIBUTOR))
    assert contributor.get(_url("population_list", w)).status_code == 200
    upload = {"control": w.control.pk, "source": "csv", "file": _csv(hires_csv(3))}
    assert contributor.post(_url("population_list", w), upload).status_code == 403
    draw = {"method": "seeded", "size": 6, "due_date": "2099-01-01"}
    assert contributor.post(_url("population_detail", w, pk=population.pk), draw).status_code == 403
    stranger = client_for(outsider)
    for url in (
        _url("population_list", w),
        _url("population_detail", w, pk=population.pk),
        _url("population_export", w, pk=population.pk),
    ):
        assert stranger.get(url).status_code == 404, url
    assert Population.objects.for_org(w.org).count() == 1
    assert not Sample.objects.for_org(w.org).exists()


def test_export_hash_matches(sampling_world, client_for):
    w = sampling_world
    population = _population(w)
    response = client_for(w.auditor).get(_url("portal_population_export", w, pk=population.pk))
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == population.sha256


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_do_not_grow_with_rows(sampling_world, client_for):
    w = sampling_world
    client = client_for(w.auditor)
    population = _population(w, 10)
    sample = samples.sample_draw(
        membership=w.auditor, population=population, size=None, seed="seed-0001"
    )
    client.get(_url("portal_populations", w))  # the session's first page caches its checks
    small = (
        _queries(client, _url("portal_populations", w)),
        _queries(client, _url("portal_sample", w, pk=sample.pk)),
        _queries(client, _url("portal_population", w, pk=population.pk)),
    )
    big = _population(w, 200)
    for _ in range(2):
        _population(w, 5)
    big_sample = samples.sample_draw(
        membership=w.auditor, population=big, size=None, seed="seed-0002"
    )
    large = (
        _queries(client, _url("portal_populations", w)),
        _queries(client, _url("portal_sample", w, pk=big_sample.pk)),
        _queries(client, _url("portal_population", w, pk=big.pk)),
    )
    assert small == large


def test_export_file_name_is_header_safe(sampling_world, client_for):
    w = sampling_world
    w.control.code = 'HR"01\r\nSet-Cookie: x'
    w.control.save()
    population = _population(w, 3)
    response = client_for(w.manager).get(_url("population_export", w, pk=population.pk))
    assert response["Content-Disposition"] == (
        'attachment; filename="population-HR-01-Set-Cookie-x-v1.csv"'
    )
