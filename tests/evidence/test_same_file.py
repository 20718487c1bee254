"""Re-uploading the same file (same SHA-256) onto an item: refused for the same period (it
adds nothing), kept as a new version with a notice for another period (versions are
append-only; an unchanged document can evidence a new period)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceVersion
from tenants.models import ActivityEntry
from tests.evidence.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_WEEK = TODAY - dt.timedelta(days=7)


def _post(client, org, control, upload, **fields):
    data = {"kind": "file", "effective_start": LAST_WEEK.isoformat(), "file": upload, **fields}
    return client.post(reverse("evidence_add", args=[org.slug, control.pk]), data)


def test_same_file_same_period_is_refused_and_nothing_is_stored(
    org, contributor, control, client_for, upload
):
    client = client_for(contributor)
    _post(client, org, control, upload(pdf_bytes("policy")), title="Policy")
    (first,) = EvidenceVersion.objects.for_org(org)
    files_before = default_storage.listdir(first.file.name.rsplit("/", 1)[0])[1]

    response = _post(client, org, control, upload(pdf_bytes("policy")), item=str(first.item_id))

    assert response.status_code == 400
    html = response.content.decode()
    assert "identical (same SHA-256) to version 1" in html
    assert "nothing was added" in html
    assert EvidenceVersion.objects.for_org(org).count() == 1
    # Nothing half-written: the second copy of the file was deleted again.
    assert default_storage.listdir(first.file.name.rsplit("/", 1)[0])[1] == files_before


def test_same_file_for_another_period_is_a_new_version_with_a_notice(
    org, contributor, control, client_for, upload
):
    client = client_for(contributor)
    _post(client, org, control, upload(pdf_bytes("policy")), title="Policy")
    first = EvidenceVersion.objects.for_org(org).get()
    last_quarter = (LAST_WEEK - dt.timedelta(days=92)).isoformat()

    response = _post(
        client,
        org,
        control,
        upload(pdf_bytes("policy")),
        item=str(first.item_id),
        effective_start=last_quarter,
    )

    assert response.status_code == 302
    assert [v.number for v in EvidenceVersion.objects.for_org(org).order_by("number")] == [1, 2]
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("identical (same SHA-256) to version 1" in n for n in notices), notices
    entry = ActivityEntry.objects.for_org(org).filter(action="upload").order_by("-pk").first()
    assert entry.changes["same_file_as"] == [None, "v1"]


def test_a_different_file_says_nothing(org, contributor, control, client_for, upload):
    client = client_for(contributor)
    _post(client, org, control, upload(pdf_bytes("v1")), title="Policy")
    first = EvidenceVersion.objects.for_org(org).get()
    response = _post(client, org, control, upload(pdf_bytes("v2")), item=str(first.item_id))
    assert response.status_code == 302
    assert not any("SHA-256" in str(m) for m in get_messages(response.wsgi_request))
