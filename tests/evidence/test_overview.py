"""The evidence overview (what needs attention) and the selectors behind it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence import selectors
from evidence.models import EvidenceVersion
from tenants.models import Role
from tests.factories import ControlFactory, evidence_row

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def _row(control, freshness="fresh", state="accepted", item=None):
    version = evidence_row(control, TODAY - 30 * DAY, state=state, item=item)
    EvidenceVersion.objects.for_org(control.organization).filter(pk=version.pk).update(
        freshness=freshness
    )
    return version


@pytest.fixture
def board(org, contributor, control):
    """One stale, one expiring, one awaiting review, one fine; one of each on an unowned control."""
    unowned = ControlFactory(organization=org, owner=None)
    return {
        "stale": _row(control, "stale"),
        "expiring": _row(control, "expiring"),
        "pending": _row(control, "fresh", state="pending"),
        "fine": _row(control, "fresh"),
        "unowned_stale": _row(unowned, "stale"),
    }


def _titles(response) -> list[str]:
    return [v.item.title for v in response.context["page"].object_list]


def test_overview_lists_what_needs_attention_most_urgent_first(org, manager, board, client_for):
    response = client_for(manager).get(reverse("evidence_overview", args=[org.slug]))
    assert response.status_code == 200
    titles = _titles(response)
    assert set(titles) == {
        board[k].item.title for k in ("stale", "expiring", "pending", "unowned_stale")
    }
    assert titles[-1] == board["pending"].item.title
    summary = response.context["summary"]
    assert (summary.stale, summary.expiring, summary.fresh, summary.awaiting_review) == (2, 1, 2, 1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "stale"}, {"stale", "unowned_stale"}),
        ({"state": "expiring"}, {"expiring"}),
        ({"state": "pending"}, {"pending"}),
        ({"owner": "none"}, {"unowned_stale"}),
        ({"state": "stale", "owner": "OWNER"}, {"stale"}),
    ],
)
def test_filters(org, manager, contributor, board, client_for, query, expected):
    query = {k: str(contributor.pk) if v == "OWNER" else v for k, v in query.items()}
    response = client_for(manager).get(reverse("evidence_overview", args=[org.slug]), query)
    assert set(_titles(response)) == {board[k].item.title for k in expected}


@pytest.mark.parametrize(
    "query", [{"state": "bogus"}, {"owner": "12abc"}, {"owner": "999999999999999999999"}]
)
def test_invalid_filters_list_nothing_and_say_why(org, manager, board, client_for, query):
    response = client_for(manager).get(reverse("evidence_overview", args=[org.slug]), query)
    assert response.status_code == 200
    assert _titles(response) == [] and "Select a valid choice" in response.content.decode()


def test_only_the_latest_version_and_live_items_count(org, manager, control, client_for):
    old = _row(control, "stale")
    _row(control, "fresh", item=old.item)  # a newer, fine version supersedes it
    removed = _row(control, "stale")
    removed.item.removed_at = timezone.now()
    removed.item.save()
    response = client_for(manager).get(reverse("evidence_overview", args=[org.slug]))
    assert _titles(response) == []
    assert "All evidence is current and reviewed" in response.content.decode()
    assert selectors.freshness_summary(org).total == 1


def test_read_only_members_can_read_the_overview(org, make_member, board, client_for):
    # (Auditors are kept in the auditor portal: tests/reports/test_portal.py.)
    response = client_for(make_member(org, Role.CONTRIBUTOR)).get(
        reverse("evidence_overview", args=[org.slug])
    )
    assert response.status_code == 200 and len(_titles(response)) == 4


def test_pagination_and_bad_page_numbers(org, manager, control, client_for):
    for _ in range(27):
        _row(control, "stale")
    client = client_for(manager)
    url = reverse("evidence_overview", args=[org.slug])
    assert len(_titles(client.get(url))) == 25
    assert len(_titles(client.get(url, {"page": "2", "state": "stale"}))) == 2
    assert (
        "state=stale&amp;page=1"
        in client.get(url, {"page": "2", "state": "stale"}).content.decode()
    )
    for page in ("x", "-1", "99999999999999999999"):
        assert client.get(url, {"page": page}).status_code == 200


def test_overview_query_count(org, manager, control, client_for, django_assert_num_queries):
    for _ in range(5):
        _row(ControlFactory(organization=org, owner=manager), "stale")
    client = client_for(manager)
    url = reverse("evidence_overview", args=[org.slug])
    client.get(url)
    # session, user, membership (middleware); owner choices; paginator count; the page of
    # versions with item, control, owner and user; the freshness summary; the org switcher
    with django_assert_num_queries(8):
        response = client.get(url, {"state": "stale"})
    assert len(_titles(response)) == 5


def test_control_panel_selector_takes_two_queries(org, control, django_assert_num_queries):
    items = [evidence_row(control, TODAY).item for _ in range(3)]
    evidence_row(control, TODAY, item=items[0])
    # the items; their versions with uploader and reviewer
    with django_assert_num_queries(2):
        found = selectors.evidence_for_control(org, control)
    assert [i.pk for i in found] == [i.pk for i in reversed(items)]
    assert found[-1].latest.number == 2 and len(found[-1].version_list) == 2
