"""Requests for information (PBC) in the browser: the auditor's pages in the portal and the
organization's pages under /o/<slug>/reports/. The exchange end to end, who gets which status
code, filters and pagination (escaping, bad input and query counts: test_pbc_input.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import pbc
from reports.models import InfoRequest, RequestComment, RequestStatus
from reports.services import auditor_access_grant
from tenants.models import ActivityEntry, Membership, Role
from tests.reports.portal_world import build_world


@pytest.fixture
def w(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


DUE = timezone.localdate() + dt.timedelta(days=14)


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _raise(w, **kwargs) -> InfoRequest:
    data = {"title": "Q2 access review sign-off", "due_date": DUE, "control": w.control, **kwargs}
    return pbc.request_raise(membership=w.auditor, audit=w.audit, **data)


def _urls(w, info) -> dict[str, str]:
    return {
        "portal_list": _url("portal_requests", w.org, audit_pk=w.audit.pk),
        "portal_detail": _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk),
        "list": _url("request_list", w.org, audit_pk=w.audit.pk),
        "detail": _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
    }


def test_the_whole_exchange(w, client_for):
    auditor, manager = client_for(w.auditor), client_for(w.manager)
    raised = auditor.post(
        _url("portal_requests", w.org, audit_pk=w.audit.pk),
        {
            "title": "Q2 access review sign-off",
            "details": "The signed review and the ticket.",
            "control": w.control.pk,
            "due_date": DUE.isoformat(),
        },
    )
    info = InfoRequest.objects.for_org(w.org).get()
    urls = _urls(w, info)
    assert raised.status_code == 302 and raised["Location"] == urls["portal_detail"]
    assert info.reference == "PBC-1" and info.status == RequestStatus.OPEN

    # The audit's dashboard shows how many requests are open and leads to them.
    dashboard = manager.get(_url("audit_detail", w.org, pk=w.audit.pk)).content.decode()
    assert "Auditor requests (1 open)" in dashboard and urls["list"] in dashboard
    listing = manager.get(urls["list"]).content.decode()
    assert "PBC-1" in listing and "Q2 access review sign-off" in listing
    assert urls["detail"] in listing
    page = manager.get(urls["detail"]).content.decode()
    assert "Send evidence" in page and f'value="{w.version.pk}"' in page
    assert f'value="{w.hidden_version.pk}"' not in page  # out of the audit's scope
    answered = manager.post(
        urls["detail"],
        {"action": "answer", "versions": [w.version.pk], "note": "Signed by the CISO."},
    )
    assert answered.status_code == 302
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED and info.answer_note == "Signed by the CISO."
    assert (
        "Auditor requests</a>"
        in manager.get(_url("audit_detail", w.org, pk=w.audit.pk)).content.decode()
    )

    seen = auditor.get(urls["portal_detail"]).content.decode()
    assert w.version.sha256 in seen and "Signed by the CISO." in seen
    download = _url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.version.pk)
    assert download in seen
    assert auditor.get(download).status_code == 200
    assert (
        auditor.post(urls["portal_detail"], {"action": "comment", "body": "Checking."}).status_code
        == 302
    )
    assert (
        manager.post(urls["detail"], {"action": "comment", "body": "Ask for more."}).status_code
        == 302
    )
    assert auditor.post(urls["portal_detail"], {"action": "accept"}).status_code == 302
    info.refresh_from_db()
    assert info.status == RequestStatus.ACCEPTED and info.accepted_at is not None
    comments = list(RequestComment.objects.for_org(w.org).values_list("from_auditor", "body"))
    assert comments == [(True, "Checking."), (False, "Ask for more.")]
    thread = manager.get(urls["detail"]).content.decode()
    assert "Checking." in thread and "(auditor)" in thread and "Send evidence" not in thread


def test_reopen_from_the_portal(w, client_for):
    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    url = _urls(w, info)["portal_detail"]
    client = client_for(w.auditor)
    assert "Reopen with this comment" in client.get(url).content.decode()
    assert client.post(url, {"action": "reopen", "body": ""}).status_code == 400
    response = client.post(url, {"action": "reopen", "body": "Q3 as well."})
    assert response.status_code == 302
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN
    assert "Q3 as well." in client.get(url).content.decode()


def test_an_answer_whose_evidence_was_removed_says_so_without_a_dead_link(w, client_for):
    from evidence.services import evidence_item_remove

    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    urls = _urls(w, info)
    download = reverse(
        "portal_version_download",
        kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk, "pk": w.version.pk},
    )
    auditor = client_for(w.auditor)
    assert download in auditor.get(urls["portal_detail"]).content.decode()
    evidence_item_remove(membership=w.manager, item=w.version.item, reason="Wrong quarter")
    page = auditor.get(urls["portal_detail"]).content.decode()
    assert "Removed" in page and download not in page
    assert w.version.sha256 in page  # what was answered stays on record
    assert "Removed" in client_for(w.manager).get(urls["detail"]).content.decode()


def _post_status(client, url, data) -> int:
    return client.post(url, data).status_code


def test_permission_matrix(w, client_for, make_member, outsider):
    """Each persona against each request page: GET, then every action it might post."""
    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.link.pk])
    urls = _urls(w, info)
    elsewhere = make_member(w.org, Role.AUDITOR)  # granted the other audit only
    auditor_access_grant(membership=w.manager, auditor=elsewhere, audit=w.other_audit)
    expired = make_member(w.org, Role.AUDITOR)
    auditor_access_grant(membership=w.manager, auditor=expired, audit=w.audit)
    Membership.objects.for_org(w.org).filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    raise_form = {"title": "x", "due_date": DUE.isoformat()}
    answer = {"action": "answer", "versions": [w.version.pk]}
    comment = {"action": "comment", "body": "hi"}
    portal = _url("portal_home", w.org)
    # persona: (GET portal list, GET portal detail, raise, portal comment, accept,
    #           GET list, GET detail, answer, comment)
    matrix = {
        "auditor": (w.auditor, 200, 200, 302, 302, 302, portal, portal, 403, 403),
        "manager": (w.manager, 200, 200, 403, 302, 403, 200, 200, 302, 302),
        "owner": (make_member(w.org, Role.OWNER), 200, 200, 403, 302, 403, 200, 200, 302, 302),
        "contributor": (
            make_member(w.org, Role.CONTRIBUTOR),
            200,
            200,
            403,
            302,
            403,
            200,
            200,
            403,
            302,
        ),
        "other audit's auditor": (elsewhere, 404, 404, 404, 404, 404, portal, portal, 403, 403),
        "expired auditor": (expired, 404, 404, 404, 404, 404, 404, 404, 404, 404),
        "outsider": (outsider, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    }
    for persona, (member, *expected) in matrix.items():
        client = client_for(member)
        got = []
        for url in (urls["portal_list"], urls["portal_detail"]):
            got.append(client.get(url).status_code)
        got.append(_post_status(client, urls["portal_list"], raise_form))
        got.append(_post_status(client, urls["portal_detail"], comment))
        got.append(_post_status(client, urls["portal_detail"], {"action": "accept"}))
        for url in (urls["list"], urls["detail"]):
            response = client.get(url)
            got.append(
                response["Location"] if response.status_code == 302 else response.status_code
            )
        got.append(_post_status(client, urls["detail"], answer))
        got.append(_post_status(client, urls["detail"], comment))
        assert got == expected, persona
        if persona == "auditor":  # accepted just now; reopen it for the next personas
            pbc.request_reopen(membership=w.auditor, request=info, reason="again")
            pbc.request_answer(membership=w.manager, request=info, version_ids=[w.link.pk])
    # Nothing done by the refused personas: one raised by the auditor, answers by managers.
    assert InfoRequest.objects.for_org(w.org).count() == 2
    authors = set(RequestComment.objects.for_org(w.org).values_list("author_id", flat=True))
    assert elsewhere.pk not in authors and expired.pk not in authors
    assert ActivityEntry.objects.for_org(w.org).filter(actor_label=outsider.user.email).count() == 0


def test_organization_pages_are_get_or_post_only(w, client_for):
    info = _raise(w)
    urls = _urls(w, info)
    client = client_for(w.manager)
    assert client.post(urls["list"], {}).status_code == 405
    for url in urls.values():
        assert client.delete(url).status_code == 405, url
        assert client.put(url).status_code == 405, url


def test_status_filter_overdue_and_empty_states(w, client_for):
    client, auditor = client_for(w.manager), client_for(w.auditor)
    for url in (
        _url("request_list", w.org, audit_pk=w.audit.pk),
        _url("portal_requests", w.org, audit_pk=w.audit.pk),
    ):
        assert "No requests yet." in client.get(url).content.decode()
    late = _raise(w, title="Late one")
    InfoRequest.objects.for_org(w.org).filter(pk=late.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2)
    )
    answered = _raise(w, title="Answered one")
    pbc.request_answer(membership=w.manager, request=answered, version_ids=[w.version.pk])
    for who, url in (
        (client, _url("request_list", w.org, audit_pk=w.audit.pk)),
        (auditor, _url("portal_requests", w.org, audit_pk=w.audit.pk)),
    ):
        body = who.get(url).content.decode()
        assert "Late one" in body and "Answered one" in body
        late_row = re.search(r"<tr>(?:(?!</tr>).)*Late one.*?</tr>", body, re.S).group(0)
        assert "Overdue" in late_row and body.count("Overdue") == 1
        only_open = who.get(url, {"status": "open"}).content.decode()
        assert "Late one" in only_open and "Answered one" not in only_open
        only_answered = who.get(url, {"status": "answered"}).content.decode()
        assert "Late one" not in only_answered and "Answered one" in only_answered
        assert "No accepted requests." in who.get(url, {"status": "accepted"}).content.decode()
        # An unknown status shows everything; it is not an error.
        assert "Late one" in who.get(url, {"status": "<b>bogus"}).content.decode()
        assert "&lt;b&gt;bogus" not in who.get(url, {"status": "<b>bogus"}).content.decode()
    # The portal's audit page counts the open ones.
    page = auditor.get(_url("portal_audit", w.org, audit_pk=w.audit.pk)).content.decode()
    assert "(1 open)" in page


def test_pagination(w, client_for, monkeypatch):
    from reports import views_requests

    monkeypatch.setattr(views_requests, "PAGE_SIZE", 2)
    for i in range(5):
        _raise(w, title=f"Request number {i}")
    client = client_for(w.auditor)
    url = _url("portal_requests", w.org, audit_pk=w.audit.pk)
    first = client.get(url).content.decode()
    assert "Page 1 of 3" in first and "Request number 1" in first
    assert "Request number 2" not in first
    last = client.get(url, {"page": "3", "status": "open"}).content.decode()
    assert "Request number 4" in last and "status=open&amp;page=2" in last
    for bad in ("abc", "0", "99", "-1", "1" * 40):
        assert client.get(url, {"page": bad}).status_code == 200
