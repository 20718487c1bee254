"""The freshness check's duration and the states it moved are exported for operators."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from evidence.freshness import freshness_check
from tests.factories import evidence_row

pytestmark = pytest.mark.django_db


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_changes_and_duration_are_counted(org, control, settings):
    settings.EVIDENCE_EXPIRING_DAYS = 14
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    evidence_row(control, today - 30 * day, valid_until=today - day)
    evidence_row(control, today - 30 * day, valid_until=today + day)
    runs = _value("soc2app_freshness_check_duration_seconds_count")
    stale = _value("soc2app_freshness_changes_total", state="stale")
    expiring = _value("soc2app_freshness_changes_total", state="expiring")

    assert freshness_check(today=today).changed == 2
    assert freshness_check(today=today).changed == 0

    assert _value("soc2app_freshness_check_duration_seconds_count") == runs + 2
    assert _value("soc2app_freshness_changes_total", state="stale") == stale + 1
    assert _value("soc2app_freshness_changes_total", state="expiring") == expiring + 1
