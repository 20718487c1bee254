"""Requests for information (PBC): an auditor raises one on a granted audit, the organization
answers with evidence, the auditor comments, accepts or reopens; who may do what; isolation;
escaping; bad input; queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import pbc
from reports.models import InfoRequest, InfoRequestEvidence, RequestComment, RequestStatus
from reports.services import auditor_access_grant
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Membership, Role
from tests.reports.test_portal import world  # noqa: F401  (the portal's fixture)

DUE = timezone.localdate() + dt.timedelta(days=14)


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _raise(w, **kwargs) -> InfoRequest:
    data = {"title": "Q2 access review sign-off", "due_date": DUE, "control": w.control, **kwargs}
    return pbc.request_raise(membership=w.auditor, audit=w.audit, **data)


def test_the_whole_exchange_in_the_browser(world, client_for):  # noqa: F811
    w = world
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
    assert raised.status_code == 302 and info.reference == "PBC-1"
    assert info.status == RequestStatus.OPEN and info.raised_by_id == w.auditor.pk

    listing = manager.get(_url("request_list", w.org, audit_pk=w.audit.pk)).content.decode()
    assert "PBC-1" in listing and "Q2 access review sign-off" in listing
    page = manager.get(_url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk))
    assert "access-review.pdf" in page.content.decode() or "Send evidence" in page.content.decode()
    answered = manager.post(
        _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
        {"action": "answer", "versions": [w.version.pk], "note": "Signed by the CISO."},
    )
    assert answered.status_code == 302
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED and info.answer_note == "Signed by the CISO."
    assert list(
        InfoRequestEvidence.objects.for_org(w.org).values_list("version_id", flat=True)
    ) == [w.version.pk]

    seen = auditor.get(_url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk))
    body = seen.content.decode()
    assert w.version.sha256 in body and "Signed by the CISO." in body
    download = _url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.version.pk)
    assert download in body
    assert (
        auditor.post(
            _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk),
            {"action": "comment", "body": "Thanks, checking."},
        ).status_code
        == 302
    )
    assert (
        manager.post(
            _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
            {"action": "comment", "body": "Tell us if you need more."},
        ).status_code
        == 302
    )
    assert (
        auditor.post(
            _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk), {"action": "accept"}
        ).status_code
        == 302
    )
    info.refresh_from_db()
    assert info.status == RequestStatus.ACCEPTED and info.accepted_at is not None
    comments = list(RequestComment.objects.for_org(w.org).values_list("from_auditor", "body"))
    assert comments == [(True, "Thanks, checking."), (False, "Tell us if you need more.")]
    actions = list(
        ActivityEntry.objects.for_org(w.org)
        .filter(action__startswith="request.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "request.raise",
        "request.answer",
        "request.comment",
        "request.comment",
        "request.accept",
    ]


def test_reopen_needs_a_reason_and_goes_back_to_open(world):  # noqa: F811
    w = world
    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    with pytest.raises(ValidationFailed, match="what is missing"):
        pbc.request_reopen(membership=w.auditor, request=info, reason="  ")
    pbc.request_reopen(membership=w.auditor, request=info, reason="The Q3 review too, please.")
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN
    assert RequestComment.objects.for_org(w.org).get().body == "The Q3 review too, please."
    with pytest.raises(ValidationFailed, match="Only an answered request"):
        pbc.request_accept(membership=w.auditor, request=info)


def test_numbers_count_per_audit(world):  # noqa: F811
    w = world
    assert [_raise(w).number for _ in range(3)] == [1, 2, 3]
    assert _raise(w, control=None).reference == "PBC-4"
    # Another audit counts from 1 (the manager grants it first).
    auditor_access_grant(membership=w.manager, auditor=w.auditor, audit=w.other_audit)
    other = pbc.request_raise(
        membership=w.auditor, audit=w.other_audit, title="Another", due_date=DUE
    )
    assert other.reference == "PBC-1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Write what you need"),
        ({"title": "x" * 201}, "under 200"),
        ({"details": "x" * 5001}, "under 5000"),
        ({"due_date": None}, "due date"),
        ({"due_date": dt.date(2020, 1, 1)}, "past"),
    ],
)
def test_bad_requests_are_refused_with_a_message(world, data, message):  # noqa: F811
    with pytest.raises(ValidationFailed, match=message):
        _raise(world, **data)
    assert not InfoRequest.objects.for_org(world.org).exists()


def test_a_control_outside_the_scope_is_refused(world):  # noqa: F811
    with pytest.raises(ValidationFailed, match="in this audit's scope"):
        _raise(world, control=world.unmapped)


def test_answers_only_with_in_scope_evidence_of_the_organization(world, other_org):  # noqa: F811
    from tests.factories import ControlFactory, evidence_row

    w = world
    info = _raise(w)
    theirs = evidence_row(ControlFactory(organization=other_org), dt.date(2025, 5, 1))
    for bad in ([w.hidden_version.pk], [theirs.pk], [], [w.version.pk, 10**12]):
        with pytest.raises(ValidationFailed):
            pbc.request_answer(membership=w.manager, request=info, version_ids=bad)
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()


def test_who_may_do_what(world, make_member):  # noqa: F811
    w = world
    info = _raise(w)
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    with pytest.raises(NotPermitted):  # managers answer; they do not raise
        pbc.request_raise(membership=w.manager, audit=w.audit, title="x", due_date=DUE)
    for member in (w.auditor, contributor):
        with pytest.raises(NotPermitted):
            pbc.request_answer(membership=member, request=info, version_ids=[w.version.pk])
    with pytest.raises(NotPermitted):
        pbc.request_accept(membership=w.manager, request=info)
    # An auditor of another audit, or whose access expired, does not reach it.
    stranger = make_member(w.org, Role.AUDITOR)
    with pytest.raises(NotFound):
        pbc.comment_add(membership=stranger, request=info, body="hello")
    Membership.objects.for_org(w.org).filter(pk=w.auditor.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    w.auditor.refresh_from_db()
    with pytest.raises((NotFound, NotPermitted)):
        pbc.comment_add(membership=w.auditor, request=info, body="late")
    assert not RequestComment.objects.for_org(w.org).exists()


def test_portal_request_pages_follow_the_grants(world, client_for, make_member, outsider):  # noqa: F811
    w = world
    info = _raise(w)
    stranger = client_for(make_member(w.org, Role.AUDITOR))
    detail = _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk)
    listing = _url("portal_requests", w.org, audit_pk=w.audit.pk)
    assert stranger.get(detail).status_code == 404
    assert stranger.get(listing).status_code == 404
    posted = stranger.post(listing, {"title": "x", "due_date": DUE.isoformat()})
    assert posted.status_code == 404
    assert client_for(outsider).get(detail).status_code == 404
    # A request id of this audit under another audit's URL is not found either.
    wrong = _url("portal_request", w.org, audit_pk=w.other_audit.pk, pk=info.pk)
    assert client_for(w.manager).get(wrong).status_code == 404
    for bad in ("0", str(10**30)):
        url = f"/o/{w.org.slug}/portal/audits/{w.audit.pk}/requests/{bad}/"
        assert client_for(w.auditor).get(url).status_code == 404
    assert InfoRequest.objects.for_org(w.org).count() == 1


def test_other_organizations_see_nothing(world, client_for, outsider):  # noqa: F811
    w = world
    info = _raise(w)
    client = client_for(outsider)
    for url in (
        _url("request_list", w.org, audit_pk=w.audit.pk),
        _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "comment", "body": "x"}).status_code == 404
    own = outsider.organization
    assert client.get(f"/o/{own.slug}/reports/audits/{w.audit.pk}/requests/").status_code == 404
    assert not RequestComment.objects.for_org(w.org).exists()


def test_auditors_cannot_answer_through_the_organization_pages(world, client_for):  # noqa: F811
    w = world
    info = _raise(w)
    response = client_for(w.auditor).post(
        _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
        {"action": "answer", "versions": [w.version.pk]},
    )
    assert response.status_code == 403
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN


def test_user_text_is_escaped(world, client_for):  # noqa: F811
    w = world
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    info = _raise(w, title=hostile, details=hostile)
    pbc.comment_add(membership=w.auditor, request=info, body=hostile)
    for client, url in (
        (client_for(w.auditor), _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk)),
        (client_for(w.manager), _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk)),
        (client_for(w.manager), _url("request_list", w.org, audit_pk=w.audit.pk)),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_bad_form_input_is_a_400_with_the_message(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    url = _url("portal_requests", w.org, audit_pk=w.audit.pk)
    for data in (
        {"title": "x", "due_date": "31/02/2026"},
        {"title": "x", "due_date": "2020-01-01"},
        {"title": "", "due_date": DUE.isoformat()},
        {"title": "x", "due_date": DUE.isoformat(), "control": "abc"},
        {"title": "x", "due_date": DUE.isoformat(), "control": w.unmapped.pk},
    ):
        assert client.post(url, data).status_code == 400, data
    assert not InfoRequest.objects.for_org(w.org).exists()
    info = _raise(w)
    detail = _url("portal_request", w.org, audit_pk=w.audit.pk, pk=info.pk)
    assert client.post(detail, {"action": "comment", "body": ""}).status_code == 400
    assert client.post(detail, {"action": "accept"}).status_code == 400  # not answered yet
    manager = client_for(w.manager)
    answer = _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk)
    assert manager.post(answer, {"action": "answer", "versions": ["x"]}).status_code == 400
    assert manager.post(answer, {"action": "answer"}).status_code == 400


@pytest.mark.parametrize("rows", [2, 20])
def test_list_queries_do_not_grow(world, client_for, rows, django_assert_num_queries):  # noqa: F811
    w = world
    for _ in range(rows):
        info = _raise(w)
        pbc.comment_add(membership=w.auditor, request=info, body="hi")
    client = client_for(w.manager)
    url = _url("request_list", w.org, audit_pk=w.audit.pk)
    client.get(url)
    with django_assert_num_queries(7):
        body = client.get(url).content.decode()
    assert body.count("PBC-") == rows
