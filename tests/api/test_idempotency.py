"""Idempotency-Key on API POSTs: a retry gets the first answer and writes nothing twice; another
body, path or caller with the key is a 409; bad keys are a 400; expired keys are swept."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from controls.models import Control
from evidence.models import EvidenceVersion
from reports.models import Report
from soc2app.api.idempotency import idempotency_keys_sweep
from tenants.models import ActivityEntry, IdempotentRequest, Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory

NEW = {
    "code": "ac-07",
    "title": "Access review",
    "control_type": "procedural",
    "frequency": "quarterly",
}


def _key() -> str:
    return str(uuid.uuid4())


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code"} and body["code"] == code, body
    return body


def test_a_retry_with_the_same_key_answers_the_first_answer_and_writes_once(api, org):
    key = _key()
    first = api.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    # The same fields in another order are the same body.
    again = api.post(
        org_url(org, "controls/"), dict(reversed(NEW.items())), HTTP_IDEMPOTENCY_KEY=key
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content  # byte for byte, keys in the same order
    assert Control.objects.for_org(org).count() == 1
    assert ActivityEntry.objects.for_org(org).filter(object_type="controls.control").count() == 1


def test_without_a_key_each_post_is_a_new_request(api, org):
    assert api.post(org_url(org, "controls/"), NEW).status_code == 201
    _error(api.post(org_url(org, "controls/"), NEW), 400, "invalid")  # the code is taken


def test_the_same_key_with_another_body_path_or_caller_is_a_409(api, org, key_for, make_member):
    key = _key()
    assert api.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    other = {**NEW, "code": "ac-08"}
    body = _error(
        api.post(org_url(org, "controls/"), other, HTTP_IDEMPOTENCY_KEY=key),
        409,
        "idempotency_key_reused",
    )
    assert "different body" in body["detail"]
    _error(
        api.post(org_url(org, "systems/"), {"name": "Web"}, HTTP_IDEMPOTENCY_KEY=key),
        409,
        "idempotency_key_reused",
    )
    # Another caller of the same organization never gets this caller's answer.
    stranger = key_for(org, Role.ADMIN)
    _error(
        stranger.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key),
        409,
        "idempotency_key_reused",
    )
    assert Control.objects.for_org(org).count() == 1


def test_keys_are_per_organization(api_for, org, other_org, manager, make_member):
    key = _key()
    theirs = api_for(make_member(other_org, Role.COMPLIANCE_MANAGER))
    assert (
        api_for(manager).post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key).status_code
        == 201
    )
    assert (
        theirs.post(org_url(other_org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key).status_code
        == 201
    )
    assert Control.objects.for_org(other_org).count() == 1


@pytest.mark.parametrize("key", ["short", "x" * 256, "has space in it", "ключ-ключ-ключ", ""])
def test_a_malformed_key_is_a_400(api, org, key):
    body = _error(
        api.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key),
        400,
        "invalid_idempotency_key",
    )
    assert "Idempotency-Key" in body["detail"]
    assert not Control.objects.for_org(org).exists()


def test_a_failed_request_is_not_remembered(api, org):
    key = _key()
    _error(
        api.post(org_url(org, "controls/"), {"code": ""}, HTTP_IDEMPOTENCY_KEY=key), 400, "invalid"
    )
    assert not IdempotentRequest.objects.for_org(org).exists()
    # Fixed, with the same key: it runs.
    assert api.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key).status_code == 201


@pytest.mark.parametrize("role", ["read_only", "contributor"])
def test_a_key_does_not_get_round_the_permission_check(org, key_for, role):
    client = key_for(org, role)
    _error(
        client.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=_key()),
        403,
        "permission_denied",
    )
    assert not IdempotentRequest.objects.for_org(org).exists()


def test_a_report_request_replays_its_location(org, key_for, make_audit):
    client = key_for(org, Role.ADMIN)
    audit = make_audit(org, as_of=dt.date(2025, 6, 30))
    url = org_url(org, f"audits/{audit.pk}/reports/")
    key = _key()
    first = client.post(url, {"kind": "csv"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 202, first.content
    again = client.post(url, {"kind": "csv"}, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 202 and again["Location"] == first["Location"]
    assert again.json()["id"] == first.json()["id"]
    assert Report.objects.for_org(org).count() == 1


def test_a_file_upload_retried_with_its_key_is_stored_once(api, org, manager, settings):
    control = ControlFactory(organization=org, owner=manager)
    url = org_url(org, f"controls/{control.pk}/evidence/")
    key = _key()

    def upload(content: bytes):
        data = {
            "file": SimpleUploadedFile("policy.txt", content, content_type="text/plain"),
            "effective_start": "2025-01-01",
        }
        return api.post(url, data, format="multipart", HTTP_IDEMPOTENCY_KEY=key)

    first = upload(b"Access policy v1\n")
    assert first.status_code == 201, first.content
    # A new multipart boundary, the same fields and file: the same request.
    assert upload(b"Access policy v1\n").json() == first.json()
    _error(upload(b"Access policy v2\n"), 409, "idempotency_key_reused")
    assert EvidenceVersion.objects.for_org(org).count() == 1


def test_expired_keys_are_swept_and_free_again(api, org):
    key = _key()
    assert api.post(org_url(org, "controls/"), NEW, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert idempotency_keys_sweep() == 0  # a day to go
    IdempotentRequest.objects.for_org(org).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    other = {**NEW, "code": "ac-08"}
    # Expired: the key is a new request again (its old row is replaced).
    assert api.post(org_url(org, "controls/"), other, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert IdempotentRequest.objects.for_org(org).count() == 1
    IdempotentRequest.objects.for_org(org).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert idempotency_keys_sweep() == 1
    assert not IdempotentRequest.objects.for_org(org).exists()


def test_the_sweep_is_scheduled():
    from soc2app.schedule import beat_schedule

    entry = beat_schedule(evidence_check_hour=6)["sweep-idempotency-keys"]
    assert entry["task"] == "tenants.tasks.sweep_idempotency_keys"


def test_the_schema_documents_the_header_on_every_post(api):
    schema = api.get("/api/schema/?format=json").json()
    posts = [
        (path, ops["post"])
        for path, ops in schema["paths"].items()
        if "post" in ops and "/orgs/" in path
    ]
    assert len(posts) >= 8
    for path, operation in posts:
        names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
        assert ("Idempotency-Key", "header") in names, path
        assert "409" in operation["responses"], path


def test_a_webhook_secret_is_not_kept_with_the_key(org, key_for):
    """Shown once: the stored answer (and so a replay) carries no signing secret."""
    client = key_for(org, Role.ADMIN)
    data = {"url": "https://93.184.215.14/hooks/soc2", "events": ["report.ready"]}
    key = _key()
    first = client.post(org_url(org, "webhooks/"), data, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
    stored = IdempotentRequest.objects.for_org(org).get()
    assert first.json()["secret"] not in stored.response_body
    again = client.post(org_url(org, "webhooks/"), data, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again.json()["secret"] is None
    assert again.json()["id"] == first.json()["id"]
