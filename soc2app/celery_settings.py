"""Celery settings (imported by ``soc2app.settings``): the broker (the embedded default's
file-system folders, or Redis), queues and routes, and the delivery discipline every task
relies on (acknowledged late, redelivered when a worker dies, time limits)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from soc2app.deployment import PRODUCTION, VAR_DIR
from soc2app.env import env_bool, env_int, env_str

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file-system transport: a broker with no server, for the embedded default.
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (worker control) messages; kombu's default is ./control in the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    _visibility = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
    # A Redis that is down or unreachable must fail a publish in seconds, not hang a request.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Tasks are acknowledged after they finish (``acks_late``): a message whose worker died
        # goes back to the queue once it has been unacknowledged this long. Longer than any
        # task may run (REPORT_TASK_TIME_LIMIT, CELERY_TASK_TIME_LIMIT), or a slow task would be
        # handed to a second worker while the first still works on it (the claims dedupe).
        "visibility_timeout": _visibility,
        # How often a worker looks for such messages (kombu's defaults sweep every ~100 s,
        # fine for an hour-long timeout; a short timeout wants a matching sweep).
        "unacked_restore_interval": max(1, min(10, _visibility // 4)),
        "unacked_restore_throttle": 1 if _visibility < 300 else 10,
        "socket_connect_timeout": env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2, minimum=1),
    }
# Seconds to wait for the broker when publishing, and a short retry policy: code that sends a
# task (a report, a webhook) records its work first and says "queued" when the send fails.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2, minimum=1)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# The queue tasks are sent to and workers started without ``--queues`` consume: deployments
# (or test workers) sharing one Redis keep apart by giving each its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Reports render on a queue (and, in production, a worker) of their own: dozens of renders never
# hold up the periodic jobs and sweeps. A worker without ``--queues`` consumes both (development).
CELERY_REPORTS_QUEUE = env_str("CELERY_REPORTS_QUEUE", "reports")
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in dict.fromkeys([CELERY_TASK_DEFAULT_QUEUE, CELERY_REPORTS_QUEUE])
]
CELERY_TASK_ROUTES = {
    "reports.tasks.generate_report": {"queue": CELERY_REPORTS_QUEUE},
    # The risk assessment's PDF: WeasyPrint, like the reports.
    "risks.tasks.render_assessment_pdf": {"queue": CELERY_REPORTS_QUEUE},
    # Render folders live on the report workers' disks.
    "reports.tasks.sweep_report_leftovers": {"queue": CELERY_REPORTS_QUEUE},
}
CELERY_TASK_IGNORE_RESULT = True
# Fault tolerance (tests/soc2app/test_worker_kill.py kills a worker mid-task):
# - acks_late: a message is acknowledged when its task finishes, not when it starts, so a
#   worker that dies mid-task (SIGKILL, OOM, a lost machine) leaves it unacknowledged and the
#   broker hands it to another worker (Redis: after ``visibility_timeout`` above). Every task
#   must therefore be idempotent: reports claim their row with a conditional UPDATE, the
#   freshness scan only moves rows not yet in their state and claims digests the same way.
# - reject_on_worker_lost: a prefork child killed under a live parent is requeued too
#   (without it Celery marks the task failed and acknowledges it: the work would be lost).
# - prefetch 1: a worker holds one waiting message at a time, so a dead worker strands at
#   most one besides the one it ran, and no message waits behind a long report.
CELERY_TASK_ACKS_LATE = True
# Workers log through LOGGING below (LOG_FORMAT=json included), not Celery's own formatter.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60 if CELERY_TASK_TIME_LIMIT > 120 else None
if PRODUCTION and "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:
    if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
        raise ImproperlyConfigured(
            "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT, or running "
            "tasks are handed to a second worker"
        )
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# CELERY_BEAT_SCHEDULE: with the evidence settings below (its check hour is one of them).
