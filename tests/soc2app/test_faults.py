"""Faults, for real: Redis unreachable (broker and cache), a database connection killed mid-write.

"Redis down" points the Celery broker and the cache at a loopback port where nothing listens,
so every publish and cache call meets a real refused connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evidence import services as evidence_services
from evidence.models import EvidenceItem, EvidenceVersion
from soc2app.celery import app as celery_app
from tenants.models import ActivityEntry
from tests.factories import ControlFactory

DEAD_REDIS = "redis://127.0.0.1:1/0"
TODAY = timezone.localdate()


def _reset_celery_pools() -> None:
    # Producers are pooled per broker URL: drop the pool so the next publish connects anew.
    if celery_app._pool is not None:
        pass  # dropped, not closed: a closed pool may still be referenced elsewhere
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def redis_down(monkeypatch) -> Iterator[None]:
    """The broker and the cache on a Redis that refuses every connection."""
    # The write/read URLs first: they read as broker_url when unset, and are restored as read.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    monkeypatch.setattr(celery_app.conf, "broker_read_url", None)
    monkeypatch.setattr(celery_app.conf, "broker_url", DEAD_REDIS)
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_REDIS)
    caches = {
        "default": {
            "BACKEND": "soc2app.cache.TolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:1/1",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    transport_options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    _reset_celery_pools()
    try:
        with override_settings(CACHES=caches, CELERY_BROKER_URL=DEAD_REDIS):
            yield
    finally:
        celery_app.conf.broker_transport_options = transport_options
        _reset_celery_pools()


@pytest.fixture
def control(org, manager):
    return ControlFactory(organization=org, owner=manager)


# --- Redis down -------------------------------------------------------------------------------


def test_publishing_gives_up_quickly_when_the_broker_is_down():
    # A request that sends a task waits a couple of seconds at most, then reports the failure.
    assert celery_app.conf.broker_connection_timeout <= 2
    policy = celery_app.conf.task_publish_retry_policy
    assert policy["max_retries"] <= 2 and policy["interval_max"] <= 0.5


@pytest.mark.django_db
def test_pages_and_api_reads_work_without_redis(
    redis_down, catalog, org, manager, control, client_for
):
    from controls.models import Audit, AuditType

    audit = Audit.objects.create(
        organization=org,
        framework=catalog,
        name="FY audit",
        audit_type=AuditType.TYPE1,
        as_of_date=TODAY,
    )
    client = client_for(manager)
    for name, args in [
        ("control_list", [org.slug]),
        ("audit_list", [org.slug]),
        ("audit_detail", [org.slug, audit.pk]),
        ("evidence_overview", [org.slug]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, (name, response.status_code)
    assert control.code.encode() in client.get(reverse("control_list", args=[org.slug])).content

    api = APIClient()
    api.force_login(manager.user)
    criteria = api.get("/api/v1/catalog/criteria/")
    assert criteria.status_code == 200 and criteria.json()["count"] > 0
    controls = api.get(f"/api/v1/orgs/{org.slug}/controls/")
    assert controls.status_code == 200 and controls.json()["count"] == 1


@pytest.mark.django_db
def test_readyz_names_the_broker_when_redis_is_down(redis_down, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unreachable"}


@pytest.mark.django_db
def test_a_report_requested_while_redis_is_down_is_kept_with_a_clear_message(
    redis_down, catalog, org, manager, django_capture_on_commit_callbacks
):
    from controls.models import Audit, AuditType
    from reports.models import Report, ReportStatus
    from reports.services import BROKER_DOWN, report_request

    audit = Audit.objects.create(
        organization=org, framework=catalog, name="FY", audit_type=AuditType.TYPE1, as_of_date=TODAY
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(membership=manager, audit=audit, kind="pdf")
    row = Report.objects.for_org(org).get(pk=report.pk)
    # Recorded, queued and explained: a later Retry (or a re-dispatch) picks it up.
    assert row.status == ReportStatus.QUEUED
    assert row.error == BROKER_DOWN


@pytest.mark.django_db
def test_a_webhook_test_sent_while_redis_is_down_waits_for_the_sweeper(
    redis_down, org, owner, settings, django_capture_on_commit_callbacks
):
    from tenants.models import DeliveryStatus, WebhookDelivery
    from tenants.webhooks.delivery import due_delivery_ids
    from tenants.webhooks.services import webhook_endpoint_create, webhook_send_test

    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint, _ = webhook_endpoint_create(
        membership=owner, url="http://127.0.0.1:9/hook", events=["evidence.stale"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_send_test(membership=owner, endpoint=endpoint)
    row = WebhookDelivery.objects.for_org(org).get(pk=delivery.pk)
    assert row.status == DeliveryStatus.PENDING
    assert delivery.pk in due_delivery_ids()


# --- the database connection drops mid-request ------------------------------------------------


def _terminate_from_another_connection(pid: int) -> None:
    """What a failover or an administrator does: end the request's backend from outside."""
    import psycopg2

    params = connection.get_connection_params()
    with psycopg2.connect(**params) as other, other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    other.close()


@pytest.fixture
def kill_during_write(monkeypatch) -> Iterator[None]:
    """The backend of this thread's connection is terminated just before the write's activity
    entry, i.e. inside the service's transaction after the item and version were inserted."""
    original = evidence_services.activity_record
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def killed(**kwargs):
        _terminate_from_another_connection(pid)
        return original(**kwargs)

    monkeypatch.setattr(evidence_services, "activity_record", killed)
    yield
    connection.close()  # the next query of this thread reconnects


def _nothing_written(org) -> bool:
    return not (
        EvidenceItem.objects.for_org(org).exists()
        or EvidenceVersion.objects.for_org(org).exists()
        or ActivityEntry.objects.for_org(org).filter(action="add").exists()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_mid_write_is_a_503_page_and_no_half_write(
    org, manager, control, client_for, kill_during_write
):
    client = client_for(manager)
    response = client.post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "link", "url": "https://tickets.example.com/7", "effective_start": TODAY},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The database could not be reached, so nothing was saved." in response.content.decode()
    connection.close()
    assert _nothing_written(org)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_mid_write_is_a_503_in_the_api(
    org, manager, control, kill_during_write
):
    api = APIClient()
    api.force_login(manager.user)
    response = api.post(
        f"/api/v1/orgs/{org.slug}/controls/{control.pk}/evidence/",
        {"kind": "link", "url": "https://tickets.example.com/8", "effective_start": TODAY},
        format="json",
    )
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert set(response.json()) == {"detail", "code"}
    connection.close()
    assert _nothing_written(org)


def test_a_database_error_outside_views_is_a_503_not_a_500(rf):
    """The 500 handler sees the exception being handled: an outage raised by a middleware
    (session, tenant lookup) answers 503 too; any other error keeps Django's 500."""
    from django.db import OperationalError

    from soc2app.middleware import server_error

    try:
        raise OperationalError("connection to server was lost")
    except OperationalError:
        response = server_error(rf.get("/o/acme/controls/"))
    assert response.status_code == 503 and response["Retry-After"] == "30"
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(rf.get("/")).status_code == 500
