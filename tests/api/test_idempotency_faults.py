"""API writes when the database connection dies, for real (``pg_terminate_backend`` from a
second connection): after COMMIT the answer is what was saved, never "nothing was saved";
before it, nothing was saved and a retry with the same Idempotency-Key writes once; a key whose
first request still runs is a 409."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from evidence import services as evidence_services
from evidence.models import EvidenceItem, EvidenceVersion
from tenants.models import ActivityEntry
from tests.api.conftest import org_url
from tests.factories import ControlFactory
from tests.soc2app.test_faults import (  # noqa: F401  (a fixture)
    _terminate_from_another_connection,
    kill_during_write,
    redis_down,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TODAY = timezone.localdate()


@pytest.fixture
def control(org, manager):
    return ControlFactory(organization=org, owner=manager)


@pytest.fixture
def api(manager) -> APIClient:
    client = APIClient()
    client.force_login(manager.user)
    return client


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def kill_after_commit(monkeypatch) -> Iterator[None]:
    """The request's backend is terminated right after its transaction commits (an on-commit
    hook registered inside the write), before the view could read anything again."""
    original = evidence_services.activity_record
    pid = _backend_pid()

    def then_killed(**kwargs):
        transaction.on_commit(lambda: _terminate_from_another_connection(pid))
        return original(**kwargs)

    monkeypatch.setattr(evidence_services, "activity_record", then_killed)
    yield
    connection.close()


def _link(n: int) -> dict:
    return {"kind": "link", "url": f"https://tickets.example.com/{n}", "effective_start": TODAY}


def _versions(org) -> int:
    return EvidenceVersion.objects.for_org(org).count()


def test_a_write_whose_connection_dies_after_commit_answers_what_was_saved(
    org, control, api, kill_after_commit, monkeypatch
):
    url = org_url(org, f"controls/{control.pk}/evidence/")
    key = str(uuid.uuid4())
    response = api.post(url, _link(1), format="json", HTTP_IDEMPOTENCY_KEY=key)
    # Saved, so not a 503 "nothing was saved": the answer built before COMMIT.
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == "https://tickets.example.com/1"
    connection.close()  # the backend is gone: reconnect
    saved = EvidenceVersion.objects.for_org(org).get()
    assert saved.pk == body["id"]
    # The client could not know; it retries with its key: the first answer, nothing written.
    monkeypatch.undo()
    again = api.post(url, _link(1), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert _versions(org) == 1
    assert ActivityEntry.objects.for_org(org).filter(action="add").count() == 1


def test_a_write_killed_before_commit_saves_nothing_and_its_retry_writes_once(
    org,
    control,
    api,
    kill_during_write,  # noqa: F811  (the fixture imported above)
    monkeypatch,
):
    url = org_url(org, f"controls/{control.pk}/evidence/")
    key = str(uuid.uuid4())
    response = api.post(url, _link(2), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert "nothing was saved" in response.json()["detail"]
    connection.close()
    assert _versions(org) == 0 and not EvidenceItem.objects.for_org(org).exists()
    monkeypatch.undo()
    retried = api.post(url, _link(2), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert api.post(url, _link(2), format="json", HTTP_IDEMPOTENCY_KEY=key).json() == retried.json()
    assert _versions(org) == 1


def test_a_key_whose_first_request_still_runs_is_a_409(org, control, api, settings):
    """The first request's transaction holds the key's row, uncommitted (as while its write
    runs); the second waits ``IDEMPOTENCY_WAIT_MS`` for it, then is told to retry."""
    settings.IDEMPOTENCY_WAIT_MS = 200
    key = str(uuid.uuid4())
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # psycopg2 opens a transaction and keeps it open
            cursor.execute(
                "INSERT INTO tenants_idempotentrequest (organization_id, key, principal, method, "
                "path, body_sha256, status_code, response_body, response_headers, created_at, "
                "expires_at) VALUES (%s, %s, 'member:0', 'POST', '/', '', 0, '', '{}', now(), "
                "now() + interval '1 day')",
                [org.pk, key],
            )
        url = org_url(org, f"controls/{control.pk}/evidence/")
        response = api.post(url, _link(3), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "idempotency_key_in_progress"
        assert _versions(org) == 0
        other.rollback()  # the first request failed: the key is free
    finally:
        other.close()
    response = api.post(
        org_url(org, f"controls/{control.pk}/evidence/"),
        _link(3),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201 and _versions(org) == 1


@pytest.fixture
def die_at_commit() -> Iterator[None]:
    """The backend ends itself *during* COMMIT: a deferred constraint trigger (it fires inside
    COMMIT, before the commit record) on new evidence versions terminates its own backend.
    Creating the trigger needs the tables' owner: tests using it are marked ``owner``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_die_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$; "
            "CREATE CONSTRAINT TRIGGER test_die_at_commit AFTER INSERT "
            "ON evidence_evidenceversion DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION test_die_at_commit()"
        )
    yield
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS test_die_at_commit ON evidence_evidenceversion; "
            "DROP FUNCTION IF EXISTS test_die_at_commit()"
        )


@pytest.mark.owner
def test_a_connection_lost_during_commit_says_the_outcome_is_unknown(
    org, control, api, die_at_commit
):
    url = org_url(org, f"controls/{control.pk}/evidence/")
    key = str(uuid.uuid4())
    response = api.post(url, _link(4), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 503, response.content
    body = response.json()
    # Not "nothing was saved": nobody can know; the key makes the retry safe.
    assert body["code"] == "outcome_unknown" and "nothing was saved" not in body["detail"]
    assert "same Idempotency-Key" in body["detail"]
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_die_at_commit ON evidence_evidenceversion")
    # This time COMMIT did not happen: the retry with the key writes it, once.
    retried = api.post(url, _link(4), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert _versions(org) == 1


def test_a_report_request_whose_connection_dies_after_commit_is_accepted(
    org,
    api,
    make_audit,
    monkeypatch,
    redis_down,  # noqa: F811  (the fixture imported above)
):
    """The report's task is sent after COMMIT (the broker refuses it, and recording that
    needs the database) and the answer read again then: both meet the dead connection; the
    answer is the 202 built in the transaction."""
    import datetime as dt

    from reports import services as report_services
    from reports.models import Report

    audit = make_audit(org, as_of=dt.date(2025, 6, 30))
    original = report_services.activity_record
    pid = _backend_pid()

    def then_killed(**kwargs):
        transaction.on_commit(lambda: _terminate_from_another_connection(pid))
        return original(**kwargs)

    monkeypatch.setattr(report_services, "activity_record", then_killed)
    response = api.post(org_url(org, f"audits/{audit.pk}/reports/"), {"kind": "csv"}, format="json")
    assert response.status_code == 202, response.content
    report_id = response.json()["id"]
    assert response["Location"].endswith(f"/reports/{report_id}/")
    connection.close()
    assert Report.objects.for_org(org).filter(pk=report_id).exists()
