"""Requests for information (PBC) pages against bad and hostile input, and their query counts:
user text is escaped, bad forms are a 400 that keeps nothing, bad ids are a 404, and the
number of queries does not grow with the rows shown."""

from __future__ import annotations

import datetime as dt

import pytest

from reports import pbc
from reports.models import InfoRequest, InfoRequestEvidence, RequestComment
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.portal_world import build_world
from tests.reports.test_pbc_views import DUE, _raise, _url, _urls


@pytest.fixture
def w(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


def test_user_text_is_escaped(w, client_for, manager):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    control = control_map(
        ControlFactory(organization=w.org, owner=manager, code="XS-1", title=hostile), "CC6.1"
    )
    evidence_row(control, dt.date(2025, 5, 1))
    info = _raise(w, title=hostile, details=hostile, control=control)
    pbc.comment_add(membership=w.auditor, request=info, body=hostile)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk], note=hostile)
    urls = _urls(w, info)
    for client, url in (
        (client_for(w.auditor), urls["portal_detail"]),
        (client_for(w.auditor), urls["portal_list"]),
        (client_for(w.manager), urls["detail"]),
        (client_for(w.manager), urls["list"]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url


def test_bad_form_input_is_a_400_with_the_message(w, client_for):
    client = client_for(w.auditor)
    url = _url("portal_requests", w.org, audit_pk=w.audit.pk)
    for data, message in (
        ({"title": "x", "due_date": "31/02/2026"}, "valid date"),
        ({"title": "x", "due_date": "2026-02-31"}, "valid date"),
        ({"title": "x", "due_date": "2020-01-01"}, "cannot be in the past"),
        ({"title": "x", "due_date": ""}, "required"),
        ({"title": "", "due_date": DUE.isoformat()}, "required"),
        ({"title": "x" * 201, "due_date": DUE.isoformat()}, "at most 200"),
        ({"title": "x", "details": "d" * 5001, "due_date": DUE.isoformat()}, "at most 5000"),
        ({"title": "x", "due_date": DUE.isoformat(), "control": "abc"}, "valid choice"),
        ({"title": "x", "due_date": DUE.isoformat(), "control": w.unmapped.pk}, "valid choice"),
        ({"title": "x", "due_date": DUE.isoformat(), "control": "9" * 30}, "valid choice"),
    ):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not InfoRequest.objects.for_org(w.org).exists()

    info = _raise(w)
    detail = _urls(w, info)["portal_detail"]
    assert client.post(detail, {"action": "comment", "body": ""}).status_code == 400
    assert client.post(detail, {"action": "comment", "body": "b" * 5001}).status_code == 400
    assert client.post(detail, {"action": "delete", "body": "x"}).status_code == 400
    refused = client.post(detail, {"action": "accept"})  # not answered yet
    assert refused.status_code == 400
    assert "Only an answered request can be accepted." in refused.content.decode()
    assert "This field is required" not in refused.content.decode()
    manager = client_for(w.manager)
    answer = _urls(w, info)["detail"]
    for data in (
        {"action": "answer", "versions": ["x"]},
        {"action": "answer"},
        {"action": "answer", "versions": [w.hidden_version.pk]},
        {"action": "answer", "versions": [w.version.pk], "note": "n" * 5001},
        {"action": "comment", "body": ""},
    ):
        assert manager.post(answer, data).status_code == 400, data
    assert not RequestComment.objects.for_org(w.org).exists()
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()
    # Ids that are not numbers, or too large, are not found.
    for bad in ("abc", "0", "1" * 30, "-1"):
        for path in (
            f"/o/{w.org.slug}/portal/audits/{w.audit.pk}/requests/{bad}/",
            f"/o/{w.org.slug}/portal/audits/{bad}/requests/",
            f"/o/{w.org.slug}/reports/audits/{w.audit.pk}/requests/{bad}/",
            f"/o/{w.org.slug}/reports/audits/{bad}/requests/",
        ):
            who = client if "/portal/" in path else manager
            assert who.get(path).status_code == 404, path


def test_answer_form_puts_the_requests_control_first(w, client_for, manager):
    first = control_map(
        ControlFactory(organization=w.org, owner=manager, code="AA-00", title="First"), "CC6.1"
    )
    evidence_row(first, dt.date(2025, 5, 1))
    info = _raise(w)  # about AC-01
    body = client_for(w.manager).get(_urls(w, info)["detail"]).content.decode()
    assert body.index("AC-01 · ") < body.index("AA-00 · ")


@pytest.mark.parametrize("rows", [2, 12])
def test_list_queries_do_not_grow(w, client_for, rows, django_assert_num_queries):
    for _ in range(rows):
        info = _raise(w)
        pbc.comment_add(membership=w.auditor, request=info, body="hi")
        pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    for member, name, queries in (
        # session, user, membership, switcher memberships, the audit, the page of requests
        # with controls and counts, their count
        (w.manager, "request_list", 7),
        # session, user, membership, switcher memberships, access check with the audit,
        # controls in scope (for the form), the page of requests, their count
        (w.auditor, "portal_requests", 8),
    ):
        client = client_for(member)
        url = _url(name, w.org, audit_pk=w.audit.pk)
        client.get(url)
        with django_assert_num_queries(queries):
            body = client.get(url).content.decode()
        assert body.count("PBC-") == rows


@pytest.mark.parametrize("rows", [1, 8])
def test_detail_queries_do_not_grow(w, client_for, rows, manager, django_assert_num_queries):
    info = _raise(w)
    versions = [
        evidence_row(
            control_map(ControlFactory(organization=w.org, owner=manager), "CC6.1"),
            dt.date(2025, 5, 1),
        ).pk
        for _ in range(rows)
    ]
    pbc.request_answer(membership=w.manager, request=info, version_ids=versions)
    for i in range(rows):
        pbc.comment_add(membership=w.auditor, request=info, body=f"note {i}")
    urls = _urls(w, info)
    for member, url, queries in (
        # session, user, membership, switcher, audit, request, attachments, comments, scope
        # controls (filter and new evidence), the page of evidence, its count
        (w.manager, urls["detail"], 11),
        # session, user, membership, switcher, access check with the audit, request,
        # attachments, comments
        (w.auditor, urls["portal_detail"], 8),
    ):
        client = client_for(member)
        client.get(url)
        with django_assert_num_queries(queries):
            body = client.get(url).content.decode()
        assert body.count("note ") == rows
