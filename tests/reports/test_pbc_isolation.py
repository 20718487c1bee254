"""Requests for information (PBC) between two organizations, each with its own auditor, audit,
evidence and request: nothing of one is reachable, by id or by URL, from the other."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from reports import pbc, selectors
from reports.models import InfoRequest, InfoRequestEvidence, RequestComment, RequestStatus
from soc2app.errors import NotFound, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.reports.portal_world import build_world

DUE = timezone.localdate() + dt.timedelta(days=14)


@pytest.fixture
def a(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


@pytest.fixture
def b(other_org, make_member, make_audit):
    return build_world(
        other_org, make_member(other_org, Role.COMPLIANCE_MANAGER), make_member, make_audit
    )


def _raise(w) -> InfoRequest:
    return pbc.request_raise(
        membership=w.auditor, audit=w.audit, title="Access review", due_date=DUE, control=w.control
    )


def _urls(slug: str, audit_pk: int, pk: int) -> list[str]:
    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": slug, "audit_pk": audit_pk, **kwargs})

    return [
        url("portal_requests"),
        url("portal_request", pk=pk),
        url("request_list"),
        url("request_detail", pk=pk),
    ]


def _state(w) -> tuple:
    return (
        list(InfoRequest.objects.for_org(w.org).values_list("pk", "status", "answer_note")),
        RequestComment.objects.for_org(w.org).count(),
        InfoRequestEvidence.objects.for_org(w.org).count(),
        ActivityEntry.objects.for_org(w.org).count(),
    )


def test_numbers_are_per_organization(a, b):
    assert _raise(a).reference == _raise(b).reference == "PBC-1"


def test_other_organizations_request_ids_are_404(a, b, client_for):
    mine, theirs = _raise(a), _raise(b)
    before = _state(b)
    _own_list, own_detail, _list, detail = _urls(a.org.slug, a.audit.pk, theirs.pk)
    # B's ids under A's address: B's request in A's audit, and everything of B's audit.
    foreign = [own_detail, detail, *_urls(a.org.slug, b.audit.pk, theirs.pk)]
    for member in (a.auditor, a.manager):
        client = client_for(member)
        for url in foreign:
            response = client.get(url)
            if member == a.auditor and "/portal/" not in url:
                # Organization pages send an auditor to the portal before looking anything up.
                assert response["Location"] == f"/o/{a.org.slug}/portal/", url
            else:
                assert response.status_code == 404, url
            for data in (
                {"action": "comment", "body": "x"},
                {"action": "accept"},
                {"action": "answer", "versions": [b.version.pk]},
                {"title": "x", "due_date": DUE.isoformat()},
            ):
                assert client.post(url, data).status_code in (403, 404, 405), (url, data)
        # B's address: A's members are not members there.
        for url in _urls(b.org.slug, b.audit.pk, theirs.pk):
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"action": "comment", "body": "x"}).status_code == 404
    assert _state(b) == before
    # A's own request under A's other audit is not found either.
    wrong = reverse(
        "request_detail",
        kwargs={"org_slug": a.org.slug, "audit_pk": a.other_audit.pk, "pk": mine.pk},
    )
    assert client_for(a.manager).get(wrong).status_code == 404


def test_lists_show_only_their_own_rows(a, b, client_for):
    _raise(a)
    theirs = _raise(b)
    pbc.comment_add(membership=b.auditor, request=theirs, body="Globex only")
    InfoRequest.objects.for_org(b.org).filter(pk=theirs.pk).update(title="Globex secret")
    rows = list(selectors.requests_for_audit(a.audit))
    assert len(rows) == 1 and rows[0].organization_id == a.org.pk
    assert rows[0].comment_count == 0  # B's comment is not counted
    for client, url in (
        (client_for(a.manager), _urls(a.org.slug, a.audit.pk, 1)[2]),
        (client_for(a.auditor), _urls(a.org.slug, a.audit.pk, 1)[0]),
    ):
        body = client.get(url).content.decode()
        assert "Globex secret" not in body and "PBC-1" in body
    with pytest.raises(Http404):
        selectors.request_get(a.audit, theirs.pk)


def test_services_refuse_crossing_organizations(a, b):
    mine, theirs = _raise(a), _raise(b)
    before = _state(b)
    with pytest.raises(NotFound):
        pbc.request_answer(membership=a.manager, request=theirs, version_ids=[b.version.pk])
    with pytest.raises(NotFound):
        pbc.comment_add(membership=a.manager, request=theirs, body="hello")
    with pytest.raises(NotFound):
        pbc.comment_add(membership=a.auditor, request=theirs, body="hello")
    with pytest.raises(NotFound):
        pbc.request_raise(membership=a.auditor, audit=b.audit, title="x", due_date=DUE)
    with pytest.raises(ValidationFailed):
        _raise_with_control(a, b.control)
    # A's request answered with B's evidence: refused, nothing attached.
    with pytest.raises(ValidationFailed):
        pbc.request_answer(membership=a.manager, request=mine, version_ids=[b.version.pk])
    mine.refresh_from_db()
    assert mine.status == RequestStatus.OPEN
    assert not InfoRequestEvidence.objects.for_org(a.org).exists()
    assert _state(b) == before


def _raise_with_control(w, control) -> InfoRequest:
    return pbc.request_raise(
        membership=w.auditor, audit=w.audit, title="x", due_date=DUE, control=control
    )
