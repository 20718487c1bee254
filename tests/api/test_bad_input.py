"""Bad input to the organization API: always a 4xx with ``{"detail", "code"}``, never a 500."""

from __future__ import annotations

import json

import pytest

from controls.models import Control
from tests.api.conftest import org_url
from tests.factories import ControlFactory, SystemFactory

CONTROL = {"code": "AC-1", "title": "Access", "control_type": "technical", "frequency": "annual"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code"} and body["detail"], body
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    "raw",
    [
        '{"code": "AC-1",',
        "not json",
        "[1, 2]",
        '"text"',
        "null",
        "NaN",
        "[" * 50_000 + "]" * 50_000,
    ],
)
def test_malformed_or_non_object_json(api, org, raw):
    response = api.generic("POST", org_url(org, "controls/"), raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"detail", "code"}
    assert not Control.objects.for_org(org).exists()


def test_wrong_content_type_is_415(api, org):
    response = api.generic("POST", org_url(org, "controls/"), "<x/>", content_type="text/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_oversized_body_is_413(api, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({**CONTROL, "description": "x" * 20_000})
    response = api.generic("POST", org_url(org, "controls/"), body, content_type="application/json")
    body = assert_error(response, 413, "too_large")
    assert "10,000 bytes" in body["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {"a": 1}}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"criteria": "CC6.1"}, "criteria"),
        ({"criteria": [["CC6.1"]]}, "criteria"),
        ({"owner": "abc"}, "owner"),
        ({"owner": 10**30}, "owner"),
        ({"owner": True}, "owner"),
        ({"due_date": "2025-13-01"}, "due_date"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"frequency": "hourly"}, "frequency"),
        ({"colour": "red"}, "colour"),
        ({"id": 5}, "id"),
    ],
)
def test_wrong_types_and_unknown_fields_on_create(api, org, change, field):
    body = assert_error(api.post(org_url(org, "controls/"), {**CONTROL, **change}), 400, "invalid")
    assert field in body["errors"], body
    assert not Control.objects.for_org(org).exists()


@pytest.mark.parametrize(
    "change",
    [{"status": 7}, {"onwer": 1}, {"due_date": "31/12/2025"}, {"criteria": {"CC6.1": 1}}],
)
def test_wrong_types_and_unknown_fields_on_update(api, org, change):
    control = ControlFactory(organization=org, status="not_started")
    assert_error(api.patch(org_url(org, f"controls/{control.pk}/"), change), 400, "invalid")
    control.refresh_from_db()
    assert control.status == "not_started"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("systems/", {"name": "S", "components": "api"}),
        ("systems/", {"name": "S", "extra": 1}),
        ("audits/", {"name": "A", "audit_type": "type3"}),
        ("audits/", {"name": "A", "audit_type": "type1", "as_of_date": "2025-02-29"}),
        (
            "audits/",
            {"name": "A", "audit_type": "type1", "as_of_date": "2025-06-30", "systems": ["one"]},
        ),
        (
            "audits/",
            {"name": "A", "audit_type": "type1", "as_of_date": "2025-06-30", "systems": [10**30]},
        ),
        (
            "audits/",
            {
                "name": "A",
                "audit_type": "type1",
                "as_of_date": "2025-06-30",
                "fieldwork_start": "2025-07-02",
                "fieldwork_end": "2025-07-01",
            },
        ),
        ("controls/adopt/", {"templates": [None]}),
        ("controls/bulk/", {"controls": ["x"], "status": "implemented"}),
    ],
)
def test_bad_bodies_elsewhere(api, org, path, body):
    assert_error(api.post(org_url(org, path), body), 400, "invalid")


def test_patch_of_a_system_with_bad_owner(api, org):
    system = SystemFactory(organization=org)
    assert_error(api.patch(org_url(org, f"systems/{system.pk}/"), {"owner": -1}), 400)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"page": "abc"}, 404),
        ({"page": "0"}, 404),
        ({"page": "99999"}, 404),
        ({"page": "9" * 5000}, 404),
        ({"page_size": "201"}, 400),
        ({"page_size": "9" * 5000}, 400),
        ({"page_size": "-3"}, 200),
        ({"page_size": "abc"}, 200),
        ({"ordering": "secret_field"}, 200),
    ],
)
@pytest.mark.parametrize("path", ["controls/", "systems/", "audits/"])
def test_pagination_parameters(api, org, params, status, path):
    response = api.get(org_url(org, path), params)
    if status >= 400:
        body = assert_error(response, status)
        if "page_size" in params:
            assert "at most 200" in body["detail"]
    else:
        assert response.status_code == 200 and "results" in response.json()


def test_unknown_ids_in_urls(api, org):
    for path in (
        "controls/{}/",
        "systems/{}/",
        "audits/{}/",
        "audits/{}/readiness/",
        "audits/{}/self-assessment/",
        "evidence/versions/{}/",
        "controls/{}/evidence/",
    ):
        for bad in ("0", "999999", "-1", "1e3", "%C3%A9", "9" * 40):
            assert_error(api.get(org_url(org, path.format(bad))), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "controls/"),
        ("post", "controls/adopt/"),
        ("post", "controls/bulk/"),
        ("patch", "controls/{control}/"),
        ("post", "controls/{control}/evidence/"),
        ("post", "systems/"),
        ("patch", "systems/{system}/"),
        ("post", "audits/"),
        ("patch", "audits/{audit}/"),
        ("put", "audits/{audit}/self-assessment/"),
        ("post", "evidence/versions/{version}/review/"),
    ],
)
@pytest.mark.parametrize("body", [{}, {"colour": "red"}, {"title": 5}])
def test_auditors_get_403_whatever_the_body(org, auditor, api_for, make_audit, method, path, body):
    import datetime as dt

    from tests.factories import evidence_row

    control = ControlFactory(organization=org, owner=auditor)
    ids = {
        "control": control.pk,
        "system": SystemFactory(organization=org).pk,
        "audit": make_audit(org, as_of=dt.date(2025, 3, 31)).pk,
        "version": evidence_row(control, dt.date(2025, 1, 1), state="pending").pk,
    }
    response = getattr(api_for(auditor), method)(org_url(org, path.format(**ids)), body)
    assert_error(response, 403, "permission_denied")
