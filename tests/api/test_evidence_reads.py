"""Reading a data record's content through the API is logged like the browser download:
same action, target and hash, with the reader (a person or an API key) as the actor."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence import services
from tenants.models import ActivityEntry, Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FIELDS = ("action", "object_type", "object_id", "object_repr", "changes")


@pytest.fixture
def record(org, manager):
    control = ControlFactory(organization=org, owner=manager)
    return services.evidence_push_data(
        membership=manager,
        control=control,
        data={"check": "mfa enforced", "failures": 0},
        effective_start=TODAY,
        title="MFA check",
    )


def _reads(org):
    return ActivityEntry.objects.for_org(org).filter(action="download").order_by("pk")


def test_an_api_read_of_a_data_record_is_logged_like_the_browser_download(
    org, manager, record, api_for, client_for
):
    download = client_for(manager).get(reverse("evidence_download", args=[org.slug, record.pk]))
    assert download.status_code == 200
    body = api_for(manager).get(org_url(org, f"evidence/versions/{record.pk}/"))
    assert body.status_code == 200 and body.json()["data"] == record.data
    browser, api = _reads(org)
    assert [getattr(api, f) for f in FIELDS] == [getattr(browser, f) for f in FIELDS]
    assert api.changes == {"sha256": [None, record.sha256], "client_ip": [None, "127.0.0.1"]}
    assert api.actor_label == browser.actor_label


def test_a_read_only_key_reading_it_is_logged_with_the_key(org, record, key_for):
    body = key_for(org, "read_only").get(org_url(org, f"evidence/versions/{record.pk}/"))
    assert body.status_code == 200
    (entry,) = _reads(org)
    assert entry.actor_label.startswith("API key test-key-")
    assert entry.object_id == str(record.pk)


def test_reading_a_link_or_being_refused_logs_no_read(
    org, manager, make_member, outsider, record, api_for
):
    link = services.evidence_add_link(
        membership=manager,
        control=record.item.control,
        url="https://x.example.com",
        effective_start=TODAY,
    )
    # A link's metadata is no content read (the browser logs nothing for it either).
    assert api_for(manager).get(org_url(org, f"evidence/versions/{link.pk}/")).status_code == 200
    # Another organization's member: not found (through either organization's address),
    # and nothing logged anywhere.
    url = org_url(org, f"evidence/versions/{record.pk}/")
    own = org_url(outsider.organization, f"evidence/versions/{record.pk}/")
    assert api_for(outsider).get(url).status_code == 404
    assert api_for(outsider).get(own).status_code == 404
    assert not _reads(org).exists() and not _reads(outsider.organization).exists()
    # Auditors read in the portal only: the API refuses them.
    auditor = make_member(org, Role.AUDITOR)
    assert api_for(auditor).get(url).status_code == 403
    assert not _reads(org).exists()


def test_a_head_of_a_data_record_reads_nothing_and_logs_nothing(org, manager, record, api_for):
    # As for the download action: a HEAD sends no content, so no read is recorded.
    head = api_for(manager).head(org_url(org, f"evidence/versions/{record.pk}/"))
    assert head.status_code == 200 and head.content == b""
    assert not _reads(org).exists()
