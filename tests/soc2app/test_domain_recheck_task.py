"""The daily re-check of verified domains is a beat job a worker knows, safe to redeliver
(its behaviour: tests/sso/test_domain_recheck.py, tests/trust/test_domain_recheck.py)."""

from __future__ import annotations

from django.conf import settings

from soc2app.tasks import RecheckFailed, domains_recheck_daily


def test_the_task_is_scheduled_daily_and_safe_to_redeliver():
    from soc2app.celery import app

    app.loader.import_default_modules()  # as a worker does (autodiscovery)
    entry = settings.CELERY_BEAT_SCHEDULE["domains-recheck-daily"]
    assert entry["task"] == domains_recheck_daily.name and entry["task"] in app.tasks
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {20}
    assert domains_recheck_daily.acks_late and domains_recheck_daily.reject_on_worker_lost
    assert domains_recheck_daily.time_limit > domains_recheck_daily.soft_time_limit
    assert RecheckFailed in domains_recheck_daily.autoretry_for
