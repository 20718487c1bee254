"""The daily re-check of verified domains is a beat job a worker knows, safe to redeliver
(its behaviour: tests/sso/test_domain_recheck.py, tests/trust/test_domain_recheck.py)."""

from __future__ import annotations

from django.conf import settings

from soc2app.tasks import domains_recheck_daily, domains_recheck_organization


def test_the_task_is_scheduled_daily_and_safe_to_redeliver():
    from soc2app.celery import app

    app.loader.import_default_modules()  # as a worker does (autodiscovery)
    entry = settings.CELERY_BEAT_SCHEDULE["domains-recheck-daily"]
    assert entry["task"] == domains_recheck_daily.name and entry["task"] in app.tasks
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {20}
    assert domains_recheck_daily.acks_late and domains_recheck_daily.reject_on_worker_lost
    # One task per organization, each with its own limits: one organization's slow DNS or web
    # site (a byte every few seconds) holds back only its own check.
    each = domains_recheck_organization
    assert each.name in app.tasks and each.acks_late and each.reject_on_worker_lost
    assert each.soft_time_limit and each.time_limit > each.soft_time_limit
