"""Failed webhook deliveries are counted for operators (``soc2app_webhook_failures_total``)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tenants.webhooks.delivery import delivery_attempt
from tenants.webhooks.services import webhooks_emit

pytestmark = pytest.mark.django_db


def _failures(final: str) -> float:
    labels = {"event": "report.ready", "final": final}
    return REGISTRY.get_sample_value("soc2app_webhook_failures_total", labels) or 0.0


def test_failed_attempts_are_counted(org, endpoint, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.status = 500
    before = _failures("true"), _failures("false")
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={})
    assert delivery_attempt(delivery_id=delivery.pk) == "failed"
    assert (_failures("true"), _failures("false")) == (before[0] + 1, before[1])
