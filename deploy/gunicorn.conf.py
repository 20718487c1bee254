"""gunicorn's production configuration (``gunicorn -c deploy/gunicorn.conf.py``).

Sync workers: each handles one request at a time, so the web runs behind nginx
(``deploy/nginx/default.conf.template``), which reads a whole request, upload included, before
passing it on: a client that sends headers and then stalls holds an nginx connection (cheap,
event-driven), never a gunicorn worker.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from soc2app.env import env_int, env_str

bind = env_str("GUNICORN_BIND", "0.0.0.0:8000")
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
worker_class = "sync"
# A request nginx has fully buffered is answered well within this; a worker stuck longer is
# restarted. nginx's proxy_read_timeout is longer, so it reports the 504, not a reset.
timeout = env_int("GUNICORN_TIMEOUT", 60, minimum=5)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# Proxy headers (X-Forwarded-Proto) are trusted from nginx only: it is on the same network.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "*")


def on_starting(server: object) -> None:
    # Prometheus multiprocess mode (soc2app/metrics.py): start from an empty folder.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
