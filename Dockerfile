# Production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 APP_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
      libmagic1 fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 app

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install -e .
COPY --chown=app:app . .
# collectstatic needs settings that pass production checks; the real values come at run time.
RUN SECRET_KEY=build-only-secret-key-that-is-long-enough-for-the-check-0123456789 \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktZW5jcnlwdHMtbm90aGluZyE= \
    ACTIVITY_LOG_KEYS=build-only-activity-log-key-that-signs-nothing-0123456789 \
    ALLOWED_HOSTS=build python manage.py collectstatic --no-input
USER app
EXPOSE 8000
# Sync workers behind nginx (docker-compose.yml's proxy): see deploy/gunicorn.conf.py.
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "soc2app.wsgi:application"]
