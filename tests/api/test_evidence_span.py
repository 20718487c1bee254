"""Uploading a manual control's evidence spanning several periods of a Type 2 audit through
the API: kept (201), with the warning in ``warnings``."""

from __future__ import annotations

import pytest

from tests.api.conftest import org_url
from tests.evidence.test_span_warning import YEAR
from tests.evidence.test_span_warning import audit as audit  # the fixture
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def control(org):
    return ControlFactory(organization=org, code="UAR-1", frequency="quarterly")


def test_the_api_returns_the_warning_and_automatic_controls_have_none(
    org, manager, control, audit, api_for
):
    api = api_for(manager)
    url = org_url(org, f"controls/{control.pk}/evidence/")
    body = {"kind": "link", "url": "https://jira.example.com/browse/SEC-2", **YEAR}
    response = api.post(url, body, format="json")
    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert "a quarterly control needs one performance per quarter" in warning

    control.operation = "automatic"
    control.save()
    again = api.post(url, {**body, "url": "https://jira.example.com/browse/SEC-3"}, format="json")
    assert again.status_code == 201 and again.json()["warnings"] == []
    short = {"effective_start": "2025-02-01", "effective_end": "2025-02-28"}
    control.operation = "manual"
    control.save()
    third = api.post(url, {**body, **short, "url": "https://x.example.com/4"}, format="json")
    assert third.json()["warnings"] == []
