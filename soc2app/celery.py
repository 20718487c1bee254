"""The Celery application. Configuration comes from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_failure, task_retry, task_success, worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soc2app.settings")

app = Celery("soc2app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """The file-system transport needs its folders to exist before anyone publishes."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _prepare_worker(**_: object) -> None:
    ensure_broker_folders()


@worker_ready.connect
def _serve_metrics(**_: object) -> None:
    from django.conf import settings

    if settings.METRICS_PORT:
        from soc2app.metrics import start_worker_server

        start_worker_server(settings.METRICS_PORT, settings.METRICS_ADDR)


def _count(outcome: str):  # noqa: ANN202
    def receiver(sender: object = None, **_: object) -> None:
        from soc2app.metrics import TASKS

        TASKS.labels(getattr(sender, "name", str(sender)), outcome).inc()

    return receiver


# Strong references: signals hold their receivers weakly by default.
task_success.connect(_count("succeeded"), weak=False)
task_failure.connect(_count("failed"), weak=False)
task_retry.connect(_count("retried"), weak=False)

ensure_broker_folders()
