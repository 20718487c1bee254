"""The controls list is built from rows (``ControlRowOut``): it must say exactly what the
detail serializer (``ControlOut``, the documented schema) says of each control."""

from __future__ import annotations

import datetime as dt

from controls import selectors
from controls.api.serializers_controls import ControlOut
from controls.models import ControlTemplate
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
