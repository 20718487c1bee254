"""Requests for information (PBC), the services: an auditor raises one on a granted audit, the
organization answers with evidence, the auditor accepts or reopens; both comment. Transitions,
who may do what, bad input, the activity log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence import services as evidence_services
from reports import pbc
from reports.models import InfoRequest, InfoRequestEvidence, RequestComment, RequestStatus
from reports.services import auditor_access_grant
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Membership, Role
from tests.factories import ControlFactory, evidence_row
from tests.reports.portal_world import build_world


@pytest.fixture
def w(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


DUE = timezone.localdate() + dt.timedelta(days=14)


def _raise(w, **kwargs) -> InfoRequest:
    data = {"title": "Q2 access review sign-off", "due_date": DUE, "control": w.control, **kwargs}
    return pbc.request_raise(membership=w.auditor, audit=w.audit, **data)


def _actions(org) -> list[str]:
    return list(
        ActivityEntry.objects.for_org(org)
        .filter(action__startswith="request.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_open_answered_accepted_and_each_step_logged(w):
    info = _raise(w, details="The signed review and its ticket.")
    assert (info.reference, info.status, info.raised_by_id) == ("PBC-1", "open", w.auditor.pk)
    assert info.raised_by_label == w.auditor.user.email
    pbc.request_answer(
        membership=w.manager, request=info, version_ids=[w.version.pk, w.link.pk], note="Here."
    )
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED and info.answered_at is not None
    assert info.answer_note == "Here."
    pbc.comment_add(membership=w.auditor, request=info, body="Thanks.")
    pbc.request_accept(membership=w.auditor, request=info)
    info.refresh_from_db()
    assert info.status == RequestStatus.ACCEPTED and info.accepted_at is not None
    assert _actions(w.org) == [
        "request.raise",
        "request.answer",
        "request.comment",
        "request.accept",
    ]
    entry = ActivityEntry.objects.for_org(w.org).filter(action="request.answer").get()
    assert entry.actor_label == w.manager.user.email and "PBC-1" in entry.object_repr


def test_reopen_needs_a_reason_and_goes_back_to_open(w):
    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    with pytest.raises(ValidationFailed, match="what is missing"):
        pbc.request_reopen(membership=w.auditor, request=info, reason="  ")
    pbc.request_reopen(membership=w.auditor, request=info, reason="The Q3 review too, please.")
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN
    comment = RequestComment.objects.for_org(w.org).get()
    assert comment.body == "The Q3 review too, please." and comment.from_auditor
    with pytest.raises(ValidationFailed, match="Only an answered request"):
        pbc.request_accept(membership=w.auditor, request=info)
    with pytest.raises(ValidationFailed, match="open already"):
        pbc.request_reopen(membership=w.auditor, request=info, reason="again")
    # Answered again, accepted, then reopened: an accepted answer can still be questioned.
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.link.pk])
    pbc.request_accept(membership=w.auditor, request=info)
    with pytest.raises(ValidationFailed, match="accepted already"):
        pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    with pytest.raises(ValidationFailed, match="Only an answered request"):
        pbc.request_accept(membership=w.auditor, request=info)
    pbc.request_reopen(membership=w.auditor, request=info, reason="One page is missing.")
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN and info.accepted_at is None
    assert InfoRequestEvidence.objects.for_org(w.org).filter(request=info).count() == 2


def test_the_attached_version_stays_when_newer_versions_arrive(w):
    info = _raise(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.link.pk])
    newer = evidence_services.evidence_add_link(
        membership=w.manager,
        control=w.control,
        url="https://evidence.example.com/newer",
        effective_start=dt.date(2025, 7, 1),
        item=w.link.item,
    )
    assert newer.item_id == w.link.item_id and newer.number == w.link.number + 1
    attached = InfoRequestEvidence.objects.for_org(w.org).select_related("version").get()
    assert attached.version_id == w.link.pk and attached.version.sha256 == w.link.sha256
    # Attaching the same version twice keeps one row.
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.link.pk, newer.pk])
    assert sorted(
        InfoRequestEvidence.objects.for_org(w.org).values_list("version_id", flat=True)
    ) == sorted([w.link.pk, newer.pk])


def test_numbers_count_per_audit(w):
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
        ({"title": "   "}, "Write what you need"),
        ({"title": "x" * 201}, "under 200"),
        ({"details": "x" * 5001}, "under 5000"),
        ({"due_date": None}, "due date"),
        ({"due_date": dt.date(2020, 1, 1)}, "past"),
        ({"due_date": timezone.localdate() - dt.timedelta(days=1)}, "past"),
    ],
)
def test_bad_requests_are_refused_with_a_message(w, data, message):
    with pytest.raises(ValidationFailed, match=message):
        _raise(w, **data)
    assert not InfoRequest.objects.for_org(w.org).exists()
    assert _actions(w.org) == []


def test_due_today_is_accepted(w):
    assert _raise(w, due_date=timezone.localdate()).due_date == timezone.localdate()


def test_a_control_outside_the_scope_or_the_organization_is_refused(w, other_org):
    with pytest.raises(ValidationFailed, match="in this audit's scope"):
        _raise(w, control=w.unmapped)
    foreign = ControlFactory(organization=other_org, code="AC-01")
    with pytest.raises(ValidationFailed, match="in this audit's scope"):
        _raise(w, control=foreign)
    assert not InfoRequest.objects.for_org(w.org).exists()


def test_answers_only_with_in_scope_evidence_of_the_organization(w, other_org):
    info = _raise(w)
    theirs = evidence_row(ControlFactory(organization=other_org), dt.date(2025, 5, 1))
    for bad in (
        [w.hidden_version.pk],  # a control outside the audit's scope
        [theirs.pk],  # another organization's
        [],
        [w.version.pk, 10**12],  # one unknown id spoils the lot
        [10**30],
        ["abc"],
        [None],
    ):
        with pytest.raises(ValidationFailed):
            pbc.request_answer(membership=w.manager, request=info, version_ids=bad)
    with pytest.raises(ValidationFailed, match="at most 50"):
        pbc.request_answer(membership=w.manager, request=info, version_ids=range(1, 52))
    with pytest.raises(ValidationFailed, match="under 5000"):
        pbc.request_answer(
            membership=w.manager, request=info, version_ids=[w.version.pk], note="x" * 5001
        )
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()


def test_removed_evidence_cannot_be_attached(w):
    info = _raise(w)
    evidence_services.evidence_item_remove(
        membership=w.manager, item=w.version.item, reason="Uploaded by mistake."
    )
    with pytest.raises(ValidationFailed, match="in this audit's scope"):
        pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])


def test_comment_bodies_are_required_and_limited(w):
    info = _raise(w)
    for body in ("", "  \n ", "x" * 5001):
        with pytest.raises(ValidationFailed):
            pbc.comment_add(membership=w.manager, request=info, body=body)
    comment = pbc.comment_add(membership=w.manager, request=info, body="  " + "y" * 5000 + " ")
    assert comment.body == "y" * 5000 and not comment.from_auditor


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.COMPLIANCE_MANAGER])
def test_managers_admins_and_owners_answer(w, make_member, role):
    info = _raise(w)
    pbc.request_answer(
        membership=make_member(w.org, role), request=info, version_ids=[w.version.pk]
    )
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED


def test_who_may_do_what(w, make_member):
    info = _raise(w)
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    for member in (w.manager, contributor):  # the organization answers; it does not raise
        with pytest.raises(NotPermitted):
            pbc.request_raise(membership=member, audit=w.audit, title="x", due_date=DUE)
    for member in (w.auditor, contributor):
        with pytest.raises(NotPermitted):
            pbc.request_answer(membership=member, request=info, version_ids=[w.version.pk])
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    for member in (w.manager, contributor):  # only the auditor accepts or reopens
        with pytest.raises(NotPermitted):
            pbc.request_accept(membership=member, request=info)
        with pytest.raises(NotPermitted):
            pbc.request_reopen(membership=member, request=info, reason="no")
    # Contributors take part in the thread.
    assert not pbc.comment_add(membership=contributor, request=info, body="On it.").from_auditor
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED


def test_auditors_of_other_audits_expired_or_foreign_do_not_reach_it(
    w,
    make_member,
    outsider,
):
    info = _raise(w)
    # An auditor granted only the other audit.
    elsewhere = make_member(w.org, Role.AUDITOR)
    auditor_access_grant(membership=w.manager, auditor=elsewhere, audit=w.other_audit)
    for call in (
        lambda m: pbc.comment_add(membership=m, request=info, body="hello"),
        lambda m: pbc.request_raise(membership=m, audit=w.audit, title="x", due_date=DUE),
        lambda m: pbc.request_accept(membership=m, request=info),
        lambda m: pbc.request_reopen(membership=m, request=info, reason="x"),
    ):
        with pytest.raises(NotFound):
            call(elsewhere)
        # Another organization's owner: not found either (before any permission is granted).
        with pytest.raises((NotFound, NotPermitted)):
            call(outsider)
    with pytest.raises(NotFound):
        pbc.request_answer(membership=outsider, request=info, version_ids=[w.version.pk])
    with pytest.raises(NotFound):
        pbc.comment_add(membership=outsider, request=info, body="hello")
    # The auditor's own access expires.
    Membership.objects.for_org(w.org).filter(pk=w.auditor.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    w.auditor.refresh_from_db()
    with pytest.raises((NotFound, NotPermitted)):
        pbc.comment_add(membership=w.auditor, request=info, body="late")
    with pytest.raises((NotFound, NotPermitted)):
        _raise(w)
    assert not RequestComment.objects.for_org(w.org).exists()
    assert InfoRequest.objects.for_org(w.org).count() == 1


def test_seed_demo_raises_two_requests_once(catalog):
    from django.core.management import call_command

    from tenants.models import Organization

    call_command("seed_demo", "--org", "demo-pbc")
    org = Organization.objects.get(slug="demo-pbc")
    # The Type 1 demo audit's; the Type 2 one has a request per sample item (test_demo_samples).
    rows = list(
        InfoRequest.objects.for_org(org)
        .filter(audit__name="SOC 2 Type 1 (demo)")
        .order_by("number")
    )
    assert [(r.reference, r.status) for r in rows] == [("PBC-1", "answered"), ("PBC-2", "open")]
    assert InfoRequestEvidence.objects.for_org(org).filter(request=rows[0]).count() == 1
    state = (
        InfoRequest.objects.for_org(org).count(),
        RequestComment.objects.for_org(org).count(),
        ActivityEntry.objects.for_org(org).count(),
    )
    call_command("seed_demo", "--org", "demo-pbc")
    assert (
        InfoRequest.objects.for_org(org).count(),
        RequestComment.objects.for_org(org).count(),
        ActivityEntry.objects.for_org(org).count(),
    ) == state
