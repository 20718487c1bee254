"""Monitoring and logging settings (imported by ``soc2app.settings``): the metrics endpoints
(``soc2app/metrics.py``) and the log format (``soc2app/logs.py``)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from soc2app.env import env_choice, env_int, env_str

# --- Monitoring -----------------------------------------------------------------------------
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>" (404 while unset); a
# Celery worker serves its own on METRICS_PORT (0: off) at METRICS_ADDR (an internal address).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_TOKEN_MIN_LENGTH = 24
if METRICS_TOKEN and len(METRICS_TOKEN) < METRICS_TOKEN_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters "
        "(for example: openssl rand -hex 24)"
    )
METRICS_PORT = env_int("METRICS_PORT", 0, minimum=0)
METRICS_ADDR = env_str("METRICS_ADDR", "127.0.0.1")

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# json: one object per line with request_id, org_id and user_id (soc2app/logs.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s "
            "[request=%(request_id)s org=%(org_id)s user=%(user_id)s]"
        },
        "json": {"()": "soc2app.logs.JsonFormatter"},
    },
    "filters": {"context": {"()": "soc2app.logs.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
