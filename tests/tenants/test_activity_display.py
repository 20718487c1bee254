"""The activity log as people read it (tenants.activity_display): object types, actions and
fields by name, ids resolved (a member to their e-mail, a version to its control and title,
choices to their labels), SHA-256 shortened with the full value on hover, long changes behind a
summary, the home's five one-line entries, ids resolved in a constant number of queries, and
never another organization's names. The stored entries stay as they were."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from controls.services import control_update
from reports import pbc
from tenants.activity import Actor, activity_record, chain_verify
from tenants.models import ActivityEntry, Role
from tenants.services_members import membership_change_role
from tests.factories import ControlFactory
from tests.reports.conftest import make_audit  # noqa: F401 (a fixture)
from tests.reports.portal_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(org, manager, make_member, make_audit):  # noqa: F811 (the fixture imported above)
    return build_world(org, manager, make_member, make_audit)


def _visible(html: str) -> str:
    """The text of the page's main part, without tags (attributes such as title= dropped)."""
    main = html.split("<main", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", main))


def _activity(client, org, **params) -> str:
    return client.get(reverse("activity", args=[org.slug]), params).content.decode()


def test_objects_fields_and_values_read_as_words(w, client_for, make_member):
    other = make_member(w.org, Role.CONTRIBUTOR)
    control_update(membership=w.manager, control=w.control, owner=other, status="implemented")
    info = pbc.request_raise(
        membership=w.auditor,
        audit=w.audit,
        title="Q2 access review",
        due_date=timezone.localdate() + dt.timedelta(days=7),
        control=w.control,
    )
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk])
    membership_change_role(membership=w.manager, target=other, role=Role.COMPLIANCE_MANAGER)
    activity_record(
        organization=w.org,
        actor=Actor.for_principal(w.manager),
        action="download",
        target=w.version,
        object_repr="access-review.pdf v1",
        changes={"sha256": [None, w.version.sha256], "client_ip": [None, "10.0.0.7"]},
    )
    activity_record(  # as evidence.review records it: str(version) is "<item id> v<number>"
        organization=w.org,
        actor=Actor.for_principal(w.manager),
        action="review",
        target=w.link,
        changes={"review_state": ["pending", "accepted"]},
    )
    html = _activity(client_for(w.manager), w.org)
    text = _visible(html)
    assert f"Reviewed Evidence AC-01 · {w.link.item.title} v1" in text
    assert "Review state: Awaiting review → Accepted" in text
    # Objects: "Request for information PBC-1: ...", not reports.inforequest.
    assert "Answered Request for information PBC-1: Q2 access review" in text
    assert "Changed Control AC-01" in text
    assert "reports.inforequest" not in text and "controls.control" not in text
    # A member id reads as their e-mail, both for the control's owner and the request's versions.
    assert f"Owner: {w.manager.user.email} → {other.user.email}" in text
    assert f"Evidence versions: AC-01 · {w.version.item.title} v1" in text
    # Choices read as their labels; the field as its verbose name.
    assert "Role: Contributor → Compliance manager" in text
    # A SHA-256 is shortened, the full value kept for hover, once per place it appears.
    assert w.version.sha256 not in text
    assert f"{w.version.sha256[:12]}…" in text
    assert f'title="{w.version.sha256}"' in html
    assert "From address: 10.0.0.7" in text
    # The stored log is unchanged (ids stay ids) and its chain still verifies.
    owner_change = ActivityEntry.objects.for_org(w.org).get(
        object_type="controls.control", action="update"
    )
    assert owner_change.changes["owner"] == [w.manager.pk, other.pk]
    assert chain_verify(w.org)[1] is None


def test_long_changes_fold_behind_a_summary(org, manager, client_for):
    many = {k: [None, "x"] for k in ("code", "title", "description", "frequency", "status")}
    for action, changes in (
        ("create", many),
        ("update", {"title": ["Backups", "Nightly backups"]}),
    ):
        activity_record(
            organization=org,
            actor=Actor.for_principal(manager),
            action=action,
            object_type="controls.control",
            object_id=1,
            object_repr="CC-01 Backups",
            changes=changes,
        )
    html = _activity(client_for(manager), org)
    assert "<summary>Code, Title and 3 more</summary>" in html
    short = re.search(r"<td class=\"changes\">(?:(?!</td>).)*Nightly backups", html, re.S)
    assert short and "<details>" not in short.group(0)


def test_ids_of_another_organization_are_never_resolved(
    org, manager, other_org, make_member, client_for
):
    """A forged or mistaken id in an entry shows as "#id": never another organization's data."""
    theirs = make_member(other_org, Role.OWNER)
    their_control = ControlFactory(organization=other_org, code="XX-99", title="Secret")
    activity_record(
        organization=org,
        actor=Actor.for_principal(manager),
        action="update",
        object_type="controls.control",
        object_id=their_control.pk,
        object_repr="",
        changes={"owner": [None, theirs.pk]},
    )
    text = _visible(_activity(client_for(manager), org))
    assert theirs.user.email not in text and "Secret" not in text
    assert f"Owner: #{theirs.pk}" in text and f"Control #{their_control.pk}" in text


def _varied(w, n: int) -> None:
    """Entries of several kinds, each referring to members, controls and versions."""
    for i in range(n):
        control = ControlFactory(organization=w.org, owner=w.manager, code=f"VV-{i:02}")
        activity_record(
            organization=w.org,
            actor=Actor.for_principal(w.manager),
            action="update",
            target=control,
            object_repr="",  # resolved from the control itself
            changes={"owner": [None, w.manager.pk], "status": ["planned", "implemented"]},
        )
        activity_record(
            organization=w.org,
            actor=Actor.for_principal(w.manager),
            action="request.answer",
            object_type="reports.inforequest",
            object_id=i,
            object_repr=f"PBC-{i}: something",
            changes={"versions": [None, [w.version.pk, w.link.pk]]},
        )


@pytest.mark.parametrize("pairs", [2, 20])
def test_a_page_of_entries_costs_the_same_queries(w, client_for, pairs, django_assert_num_queries):
    _varied(w, pairs)
    client = client_for(w.manager)
    url = reverse("activity", args=[w.org.slug])
    client.get(url)
    # session, user, membership+organization, count, page rows, switcher memberships, then one
    # per kind of object the page refers to: controls, members (with users), versions
    with django_assert_num_queries(9):
        body = client.get(url).content.decode()
    assert _visible(body).count(f"Owner: {w.manager.user.email}") == pairs
    assert "Changed Control VV-00" in _visible(body)


def test_the_home_shows_five_one_line_entries_and_links_the_log(w, client_for):
    _varied(w, 6)
    html = client_for(w.manager).get(reverse("org_home", args=[w.org.slug])).content.decode()
    brief = re.search(r'<ul class="activity-brief">(.*?)</ul>', html, re.S).group(1)
    lines = re.findall(r"<li\b.*?</li>", brief, re.S)
    assert len(lines) == 5
    assert all("<details" not in line and "<table" not in line for line in lines)
    assert "Answered Request for information PBC-5: something" in _visible(brief)
    assert reverse("activity", args=[w.org.slug]) in html
