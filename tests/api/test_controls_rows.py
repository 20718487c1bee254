"""The controls list is built from rows (``ControlRowOut``): it must say exactly what the
detail serializer (``ControlOut``, the documented schema) says of each control."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls import selectors
from controls.api.serializers_controls import ControlOut
from controls.models import Control, ControlTemplate
from tests.api.conftest import org_url
from tests.factories import ControlFactory, control_map


def test_list_rows_equal_the_detail_serializer_field_by_field(api, org, manager):
    template = ControlTemplate.objects.order_by("code").first()
    full = ControlFactory(
        organization=org,
        code="AC-01",
        owner=manager,
        template=template,
        due_date=dt.date(2027, 2, 28),
        description="Reviews <b>quarterly</b> & logs “everything”",
        na_justification="",
        evidence_guidance="Export of the review ticket",
    )
    control_map(full, "CC6.3", "CC6.1", "A1.2")
    bare = ControlFactory(organization=org, code="AC-02", owner=None, due_date=None)

    listed = {row["code"]: row for row in api.get(org_url(org, "controls/")).json()["results"]}

    for control in (full, bare):
        expected = ControlOut(selectors.control_get_for(org, control.pk)).data
        assert listed[control.code] == dict(expected)
        assert list(listed[control.code]) == list(expected)  # same fields, same order
    assert listed["AC-01"]["criteria"] == ["CC6.1", "CC6.3", "A1.2"]  # catalog order
    assert listed["AC-01"]["template"] == template.code
    assert listed["AC-02"]["owner"] is None and listed["AC-02"]["owner_email"] is None


def test_unrelated_query_parameters_do_not_filter_and_filters_still_apply(api, org, manager):
    ControlFactory(organization=org, code="A-1", status="implemented")
    ControlFactory(organization=org, code="B-1", status="not_started")
    url = org_url(org, "controls/")
    assert len(api.get(url, {"page_size": 50, "unknown": "x"}).json()["results"]) == 2
    assert [c["code"] for c in api.get(url, {"status": "implemented"}).json()["results"]] == ["A-1"]
    assert api.get(url, {"status": "nonsense"}).status_code == 400


def test_pages_count_with_the_page_and_fall_back_past_the_end(api, org, django_assert_num_queries):
    for n in range(7):
        ControlFactory(organization=org, code=f"P-{n}")
    url = org_url(org, "controls/")
    pages = [api.get(url, {"page_size": 3, "page": page}).json() for page in (1, 2, 3)]
    assert [p["count"] for p in pages] == [7, 7, 7]
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None and "page=2" in pages[0]["next"]
    assert pages[2]["next"] is None and "page=2" in pages[2]["previous"]
    assert [c["code"] for p in pages for c in p["results"]] == [f"P-{n}" for n in range(7)]
    assert api.get(url, {"page_size": 3, "page": "last"}).json()["results"][0]["code"] == "P-6"
    for bad in (4, 0, "x", 10**22):
        response = api.get(url, {"page_size": 3, "page": bad})
        assert response.status_code == 404 and response.json()["code"] == "not_found", bad
    # A DISTINCT query (a criterion filter) is counted separately, and still right.
    control_map(Control.objects.for_org(org).get(code="P-1"), "CC6.1", "CC6.2")
    control_map(Control.objects.for_org(org).get(code="P-2"), "CC6.1")
    data = api.get(url, {"criterion": "cc6.1", "page_size": 1}).json()
    assert data["count"] == 2 and [c["code"] for c in data["results"]] == ["P-1"]


def test_an_empty_list_counts_zero(api, org):
    data = api.get(org_url(org, "controls/")).json()
    assert data == {"count": 0, "next": None, "previous": None, "results": []}


def test_row_datetimes_follow_drf_in_another_time_zone(org):
    from django.utils import timezone
    from rest_framework.serializers import DateTimeField

    from controls.api.serializers_controls import ControlRowOut

    control = ControlFactory(organization=org, code="TZ-1")
    row = {**{f: None for f in ControlOut.Meta.fields}, "owner_id": None}
    row |= {"owner__user__email": None, "template__code": None, "criteria": []}
    row |= {"created_at": control.created_at, "updated_at": dt.datetime(2027, 1, 1, tzinfo=dt.UTC)}
    for zone in ("UTC", "Europe/Paris", "America/New_York"):
        with timezone.override(zone):
            ours = ControlRowOut([row], many=True).data[0]
            drf = DateTimeField().to_representation(control.created_at)
        assert ours["created_at"] == drf, zone
    assert ours["updated_at"] == "2026-12-31T19:00:00-05:00"
    assert ControlRowOut([row], many=True).data[0]["updated_at"] == "2027-01-01T00:00:00Z"


def test_pages_ordered_by_a_shared_value_never_repeat_or_skip_a_control(api, org):
    for n in range(6):
        ControlFactory(organization=org, code=f"T-{n}", status="implemented")
    url = org_url(org, "controls/")
    for ordering in ("status", "-status", "frequency"):
        seen = [
            api.get(url, {"ordering": ordering, "page_size": 1, "page": page}).json()["results"]
            for page in range(1, 7)
        ]
        assert sorted(r[0]["code"] for r in seen) == [f"T-{n}" for n in range(6)], ordering
    # The order is total: the primary key breaks ties (stable whatever the database's plan).
    with CaptureQueriesContext(connection) as queries:
        api.get(url, {"ordering": "status", "page_size": 2})
    (page,) = [q["sql"] for q in queries if 'FROM "controls_control"' in q["sql"]]
    assert page.split("ORDER BY")[1].split("LIMIT")[0].count(",") == 1  # status, then id
