"""What Celery beat runs, and when (``settings.CELERY_BEAT_SCHEDULE``): every periodic job of
the application in one table. Times are UTC (``CELERY_TIMEZONE``). Every job is idempotent,
so a run that comes twice (a restarted beat, a redelivered message) changes nothing more."""

from __future__ import annotations

from celery.schedules import crontab


def beat_schedule(*, evidence_check_hour: int) -> dict[str, dict]:
    return {
        # Invitations past their expiry date stop working and are marked so.
        "expire-invitations": {
            "task": "tenants.tasks.expire_invitations",
            "schedule": crontab(minute="*/15"),
        },
        # API keys and SCIM tokens whose creator's access ended (an auditor's or owner's
        # end date passed): refused at once already, revoked for good here, owners told.
        "revoke-lapsed-credentials": {
            "task": "tenants.tasks.revoke_lapsed_credentials",
            "schedule": crontab(minute="3-59/15"),
        },
        # Policy acceptance: links for people newly covered (joiners) or whose link expired,
        # and reminders to those who have not accepted (policies.tasks).
        "policy-links-daily": {
            "task": "policies.tasks.policy_links_daily",
            "schedule": crontab(hour=8, minute=15),
        },
        # Training: links for joiners, for the next cycle coming due, and reminders
        # (training.tasks).
        "training-links-daily": {
            "task": "training.tasks.training_links_daily",
            "schedule": crontab(hour=8, minute=25),
        },
        # Policies and training as evidence: the previous month's snapshot of each policy's
        # acceptance and each requirement's completion, written once a month (the days after
        # the first write nothing; a missed day is caught up the next).
        "policy-acceptance-evidence-monthly": {
            "task": "policies.tasks.policy_acceptance_evidence_monthly",
            "schedule": crontab(hour=1, minute=5),
        },
        "training-evidence-monthly": {
            "task": "training.tasks.training_evidence_monthly",
            "schedule": crontab(hour=1, minute=15),
        },
        # API Idempotency-Keys (and their stored answers) older than IDEMPOTENCY_KEY_HOURS.
        "sweep-idempotency-keys": {
            "task": "tenants.tasks.sweep_idempotency_keys",
            "schedule": crontab(minute=45),
        },
        # Reports requested while the broker was down, or whose worker vanished.
        "redispatch-reports": {
            "task": "reports.tasks.redispatch_reports",
            "schedule": crontab(minute="*/5"),
        },
        # Monitoring connections whose scheduled run (daily, weekly) is due.
        "start-due-monitoring-runs": {
            "task": "monitoring.tasks.start_due_runs",
            "schedule": crontab(minute="*/5"),
        },
        # Monitoring runs queued while the broker was down, or whose worker vanished.
        "redispatch-monitoring-runs": {
            "task": "monitoring.tasks.redispatch_runs",
            "schedule": crontab(minute="2-59/5"),
        },
        # Render folders and stored report files left by renders killed outright.
        "sweep-report-leftovers": {
            "task": "reports.tasks.sweep_report_leftovers",
            "schedule": crontab(minute="17,47"),
        },
        # "What changed since last week" on the readiness dashboard compares with these.
        "snapshot-readiness": {
            "task": "controls.tasks.snapshot_readiness",
            "schedule": crontab(hour=2, minute=30),
        },
        # Webhook deliveries whose retry is due (a lost message, a long backoff).
        "webhook-retry-due": {
            "task": "tenants.webhooks.tasks.retry_due_deliveries",
            "schedule": crontab(minute="*"),
        },
        # The daily evidence freshness check and the owners' digests.
        "evidence-check-freshness": {
            "task": "evidence.tasks.check_freshness",
            "schedule": crontab(hour=evidence_check_hour, minute=0),
        },
        # Monitoring findings past their due date: finding.overdue, once per finding; ten
        # minutes before the evidence check, so the day's digest tells their owners.
        "monitoring-overdue-findings": {
            "task": "monitoring.sweep_overdue_findings",
            "schedule": crontab(hour=(evidence_check_hour - 1) % 24, minute=50),
        },
        # Joiners' and leavers' checklist items still open after their due date: recorded
        # once each as a failing version on their control (people.tasks); before the check,
        # so the day's freshness sees them.
        "checklist-overdue-items": {
            "task": "people.sweep_overdue_checklist_items",
            "schedule": crontab(hour=(evidence_check_hour - 1) % 24, minute=40),
        },
        # Every hour after that hour: the check again if it did not finish today (a broker
        # outage at the hour, a failed run), else the digests a mail outage held back.
        "evidence-check-freshness-catch-up": {
            "task": "evidence.tasks.check_freshness_catch_up",
            "schedule": crontab(minute=30),
        },
        # A signed checkpoint of each organization's activity log head, outside the database.
        "activity-log-checkpoints": {
            "task": "tenants.tasks.write_activity_checkpoints",
            "schedule": crontab(minute=7),
        },
        # Uploads held while clamd was unreachable are scanned again.
        "evidence-rescan-pending": {
            "task": "evidence.scanning.rescan_pending",
            "schedule": crontab(minute="*/5"),
        },
    }
