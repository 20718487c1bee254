"""Uploading evidence of a manual control that spans several periods of a Type 2 audit: kept,
with a warning that it counts for one period (the page; the API in tests/api/test_evidence_span.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from controls.models import Audit, AuditType

pytestmark = pytest.mark.django_db
YEAR = {"effective_start": "2025-01-01", "effective_end": "2025-12-31"}


@pytest.fixture
def audit(org, catalog):
    audit = Audit(
        organization=org,
        framework=catalog,
        name="FY25 Type 2",
        audit_type=AuditType.TYPE2,
        window_start=dt.date(2025, 1, 1),
        window_end=dt.date(2025, 12, 31),
    )
    audit.save()
    return audit


def test_the_page_warns_and_keeps_the_version(org, manager, control, audit, client_for):
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "link", "url": "https://jira.example.com/browse/SEC-1", **YEAR},
        follow=True,
    )
    text = response.content.decode()
    assert "Saved as version 1" in text
    assert (
        "FY25 Type 2: Evidence for 01 Jan 2025 – 31 Dec 2025 covers 4 quarters; counts for the "
        "quarter of 31 Dec 2025" in text
    )
