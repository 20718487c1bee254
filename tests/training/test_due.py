"""Due and overdue across cycles: first due after the start date, then every N months after
the last completion (or never again for a one-off), leavers not covered; the managers'
overview in a constant number of queries whatever the roster's size; the to-do items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from soc2app.todo import todo_for
from tests.training.conftest import done as _done
from tests.training.conftest import person
from training import selectors, services

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def _status(org, req, who, today=TODAY):
    rows = selectors.statuses(org, today, [req], person_id=who.pk)[req.pk]
    return rows[0] if rows else None


def test_due_and_overdue_across_cycles(org, manager, module, course):
    for req in (module, course):
        services.assignment_add(membership=manager, requirement=req, target="everyone")
    joiner = person(org, "Ana", start_date=dt.date(2026, 6, 1))
    veteran = person(org, "Bo", start_date=dt.date(2020, 1, 1))
    s = _status(org, module, joiner)
    assert s.due_on == dt.date(2026, 7, 1) and not s.overdue and not s.current
    s = _status(org, module, veteran)
    assert s.due_on == dt.date(2020, 1, 31) and s.overdue
    # A completion moves the next due date a year on; a year and a day later it is overdue.
    _done(org, veteran, module, dt.date(2025, 6, 10))
    s = _status(org, module, veteran)
    assert s.last_completed == dt.date(2025, 6, 10) and s.due_on == dt.date(2026, 6, 10)
    assert s.overdue and not s.current
    _done(org, veteran, module, dt.date(2026, 6, 12))
    s = _status(org, module, veteran)
    assert s.due_on == dt.date(2027, 6, 12) and s.current
    # A one-off course: done once, never due again.
    _done(org, veteran, course, dt.date(2021, 1, 5))
    s = _status(org, course, veteran)
    assert s.due_on is None and s.current and not s.overdue
    assert _status(org, course, joiner).due_on == dt.date(2026, 7, 31)


def test_only_people_covered_and_in_the_organization(org, manager, module):
    person(org, "Ana")  # Engineering: not covered
    sales = person(org, "Bo", department="Sales")
    services.assignment_add(
        membership=manager, requirement=module, target="department", department="Sales"
    )
    person(org, "Cy", department="Sales", end_date=dt.date(2025, 1, 1))  # left
    person(org, "Di", department="Sales", start_date=dt.date(2027, 1, 1))  # not started
    rows = selectors.statuses(org, TODAY, [module])[module.pk]
    assert [r.person_id for r in rows] == [sales.pk]


def _roster(org, n: int, offset: int) -> None:
    for i in range(n):
        person(org, f"P{offset + i}", department="Sales" if i % 2 else "Engineering")


def test_the_overview_runs_in_constant_queries(org, manager, module, course, client_for):
    for req in (module, course):
        services.assignment_add(membership=manager, requirement=req, target="everyone")
    client = client_for(manager)
    _roster(org, 3, 0)
    list_url = reverse("training", kwargs={"org_slug": org.slug})
    detail_url = reverse("training_detail", kwargs={"org_slug": org.slug, "pk": module.pk})
    client.get(list_url)  # the session's first request loads what later ones cache
    counts = []
    for size in (3, 40):
        if size == 40:
            _roster(org, 37, 100)
            for who in Person.objects.for_org(org).order_by("pk")[:20]:
                _done(org, who, module, timezone.localdate())
        with CaptureQueriesContext(db_connection) as listed:
            assert client.get(list_url).status_code == 200
        with CaptureQueriesContext(db_connection) as detailed:
            page = client.get(detail_url)
            assert page.status_code == 200
        counts.append((len(listed), len(detailed)))
    assert counts[0] == counts[1], counts
    assert b"20 of 40" in page.content


def test_todo_items_for_the_person_and_the_managers(org, manager, contributor, module):
    services.assignment_add(membership=manager, requirement=module, target="everyone")
    me = person(org, "Ana", start_date=timezone.localdate() - dt.timedelta(days=40))
    me.membership = contributor
    me.save()
    person(org, "Bo", start_date=timezone.localdate() - dt.timedelta(days=5))
    mine = [i for i in todo_for(contributor) if i.kind.startswith("training")]
    assert [i.kind for i in mine] == ["training.complete"] and mine[0].is_overdue
    theirs = [i for i in todo_for(manager) if i.kind == "training.overdue"]
    assert len(theirs) == 1 and theirs[0].title.startswith("1 person is overdue")
