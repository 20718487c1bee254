"""Each control's next due date on the control list and a control's page: implementing it by
its due date, or its evidence (added, renewed before it stops counting, replaced when stale),
by the home's to-do rules (``evidence.todo.next_due``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from controls.models import ControlStatus
from tests.factories import ControlFactory, control_map, evidence_row

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _text(html: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())


def _controls(org, owner, today: dt.date) -> dict[str, object]:
    def make(code: str, **values):
        return control_map(
            ControlFactory(organization=org, owner=owner, code=code, **values), "CC6.1"
        )

    late = make("IMP-LATE", status=ControlStatus.IN_PROGRESS, due_date=today - dt.timedelta(days=5))
    soon = make("IMP-SOON", status=ControlStatus.NOT_STARTED, due_date=today + dt.timedelta(days=9))
    fresh = make("EV-FRESH", status=ControlStatus.IMPLEMENTED)
    evidence_row(fresh, today - dt.timedelta(days=10), valid_until=today + dt.timedelta(days=40))
    stale = make("EV-STALE", status=ControlStatus.IMPLEMENTED)
    evidence_row(stale, today - dt.timedelta(days=200), valid_until=today - dt.timedelta(days=20))
    none = make("EV-NONE", status=ControlStatus.IMPLEMENTED)
    na = make("NA-1", status=ControlStatus.NOT_APPLICABLE, na_justification="No office.")
    return {"late": late, "soon": soon, "fresh": fresh, "stale": stale, "none": none, "na": na}


def _row(text: str, code: str) -> str:
    """The list's row of ``code``: its text up to the next control's code."""
    start = text.index(f" {code} ")
    return text[start : start + 200]


def test_list_shows_each_controls_next_due_date(org, manager, client_for, catalog):
    today = timezone.localdate()
    _controls(org, manager, today)
    response = client_for(manager).get(url("control_list", org))
    assert response.status_code == 200
    text = _text(response.content)
    assert "Next due" in text

    def day(delta: int) -> str:
        return f"{today + dt.timedelta(days=delta):%-d %b %Y}"

    assert f"{day(-5)} Overdue Implement" in _row(text, "IMP-LATE")
    assert f"{day(9)} Implement" in _row(text, "IMP-SOON")
    assert f"{day(40)} Renew evidence" in _row(text, "EV-FRESH")
    assert f"{day(-20)} Overdue Upload current evidence" in _row(text, "EV-STALE")
    assert "Now Add evidence" in _row(text, "EV-NONE")
    assert "Overdue" not in _row(text, "NA-1") and "evidence" not in _row(text, "NA-1")


def test_control_page_shows_its_next_due_date(org, manager, client_for, catalog):
    today = timezone.localdate()
    controls = _controls(org, manager, today)
    client = client_for(manager)
    stale = _text(client.get(url("control_detail", org, pk=controls["stale"].pk)).content)
    assert (
        f"Next due {today - dt.timedelta(days=20):%-d %b %Y} Overdue Upload current evidence"
        in stale
    )
    late = _text(client.get(url("control_detail", org, pk=controls["late"].pk)).content)
    assert f"Next due {today - dt.timedelta(days=5):%-d %b %Y} Overdue Implement" in late
    assert f"Implement by {today - dt.timedelta(days=5):%-d %b %Y}" in late


@pytest.mark.parametrize("copies", [1, 4])
def test_list_query_count_stays_constant_with_due_dates(
    copies, org, manager, client_for, catalog, django_assert_num_queries
):
    """Every row's next due date comes from the controls' own query (two subqueries)."""
    today = timezone.localdate()
    for n in range(copies):
        for control in _controls(org, manager, today).values():
            control.code = f"{control.code}-{n}"
            control.save(update_fields=["code"])
    client = client_for(manager)
    client.get(url("control_list", org))  # the first request also saves the session
    # session, user, membership with its organization (middleware), the organization
    # switcher's memberships, owner choices, the page's count, the controls (with owner,
    # user and evidence state), their mappings (with criteria)
    with django_assert_num_queries(8):
        response = client.get(url("control_list", org))
    assert _text(response.content).count("Renew evidence") == copies
