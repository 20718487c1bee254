"""What a review may not do: accept or reject a file held for its malware scan or quarantined,
or (segregation of duties, on by default) a version its reviewer uploaded. The same refusals
in the service, the browser and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evidence import services
from evidence.models import EvidenceVersion, ReviewState, ScanState
from soc2app.errors import NotPermitted, ValidationFailed
from tenants.models import Organization
from tests.api.conftest import org_url
from tests.scanner import hold_uploads

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def held_file(settings, manager, control) -> EvidenceVersion:
    """A file uploaded while clamd was unreachable: held as pending (the real upload path)."""
    hold_uploads(settings)
    version = services.evidence_submit_file(
        membership=manager,
        control=control,
        upload=SimpleUploadedFile("restore.txt", b"restore test\n", "text/plain"),
        effective_start=TODAY,
    )
    assert version.scan_state == ScanState.PENDING
    return version


def _quarantine(version: EvidenceVersion) -> EvidenceVersion:
    # What the rescan writes when clamd finds malware (evidence.scanning).
    EvidenceVersion.objects.for_org(version.organization_id).filter(pk=version.pk).update(
        scan_state=ScanState.INFECTED
    )
    version.refresh_from_db()
    return version


@pytest.fixture
def link(manager, control) -> EvidenceVersion:
    return services.evidence_add_link(
        membership=manager, control=control, url="https://x.example.com/1", effective_start=TODAY
    )


def _api(membership) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.force_login(membership.user)
    return client


def _state(version: EvidenceVersion) -> str:
    return EvidenceVersion.objects.for_org(version.organization_id).get(pk=version.pk).review_state


# --- held and quarantined files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("quarantined", "code", "message"),
    [(False, "scan_pending", "waiting for its malware scan"), (True, "quarantined", "quarantined")],
)
def test_held_and_quarantined_files_are_not_reviewed(
    org, reviewer, held_file, client_for, quarantined, code, message
):
    version = _quarantine(held_file) if quarantined else held_file
    with pytest.raises(ValidationFailed, match=message) as refused:
        services.evidence_review(membership=reviewer, version=version, decision="accepted")
    assert refused.value.code == code

    page = client_for(reviewer).post(
        reverse("evidence_review", args=[org.slug, version.pk]), {"decision": "accepted"}
    )
    assert page.status_code == 400 and message in page.content.decode()

    api = _api(reviewer).post(
        org_url(org, f"evidence/versions/{version.pk}/review/"), {"decision": "accepted"}
    )
    assert (api.status_code, api.json()["code"]) == (400, code)
    assert _state(version) == ReviewState.PENDING

    # The item page says why and offers no review form for it.
    html = client_for(reviewer).get(reverse("evidence_item", args=[org.slug, version.item_id]))
    text = html.content.decode()
    assert ("Quarantined: malware found" if quarantined else "Waiting for the malware scan") in text
    assert reverse("evidence_review", args=[org.slug, version.pk]) not in text


def test_a_verdict_that_landed_after_the_page_was_read_is_what_the_review_sees(reviewer, held_file):
    """The reviewer's copy says clean (read before a rescan found a threat); the row now says
    infected. The review checks the row it locks, not the copy it was handed."""
    stale = EvidenceVersion.objects.for_org(held_file.organization_id).get(pk=held_file.pk)
    stale.scan_state = ScanState.CLEAN  # as the page showed it
    _quarantine(held_file)
    with pytest.raises(ValidationFailed, match="quarantined"):
        services.evidence_review(membership=reviewer, version=stale, decision="accepted")
    assert _state(held_file) == ReviewState.PENDING


def test_the_api_shows_the_scan_state_and_no_download_for_a_held_file(org, manager, held_file):
    body = _api(manager).get(org_url(org, f"evidence/versions/{held_file.pk}/")).json()
    assert (body["scan_state"], body["download_url"]) == ("pending", None)


# --- segregation of duties -------------------------------------------------------------------


def test_independent_review_is_on_by_default(org):
    assert Organization.objects.get(pk=org.pk).require_independent_review is True


def test_the_uploader_cannot_review_their_own_version(org, manager, reviewer, link, client_for):
    with pytest.raises(NotPermitted, match="another compliance manager") as refused:
        services.evidence_review(membership=manager, version=link, decision="accepted")
    assert refused.value.code == "self_review"

    url = reverse("evidence_review", args=[org.slug, link.pk])
    page = client_for(manager).post(url, {"decision": "accepted"})
    assert page.status_code == 403 and "another compliance manager" in page.content.decode()
    review_url = org_url(org, f"evidence/versions/{link.pk}/review/")
    api = _api(manager).post(review_url, {"decision": "rejected", "comment": "x"})
    assert (api.status_code, api.json()["code"]) == (403, "self_review")
    assert _state(link) == ReviewState.PENDING
    # The uploader's item page offers no form for it.
    item = client_for(manager).get(reverse("evidence_item", args=[org.slug, link.item_id]))
    assert "another manager reviews it" in item.content.decode()
    assert url not in item.content.decode()

    # Someone else may.
    assert client_for(reviewer).post(url, {"decision": "accepted"}).status_code == 302
    link.refresh_from_db()
    assert (link.review_state, link.reviewed_by) == (ReviewState.ACCEPTED, reviewer.user)


def test_a_key_cannot_review_what_it_pushed_nor_what_its_creator_uploaded(
    org, manager, make_member, control
):
    from tenants.apikeys import api_key_create

    admin = make_member(org, "admin")
    key, _secret = api_key_create(membership=admin, name="ci", role="compliance_manager")
    by_admin = services.evidence_add_link(
        membership=admin, control=control, url="https://x.example.com/a", effective_start=TODAY
    )
    with pytest.raises(NotPermitted):
        services.evidence_review(membership=key, version=by_admin, decision="accepted")
    pushed = services.evidence_push_data(
        membership=key, control=control, data={"ok": True}, effective_start=TODAY
    )
    with pytest.raises(NotPermitted):
        services.evidence_review(membership=key, version=pushed, decision="accepted")
    # Another person may review the key's record.
    services.evidence_review(membership=manager, version=pushed, decision="accepted")
    assert _state(pushed) == ReviewState.ACCEPTED


def test_a_person_cannot_review_what_their_own_keys_pushed(org, make_member, reviewer, control):
    """Pushing through one's own API key is no way around independent review: neither the
    key's creator (in the browser) nor another key of theirs may review the key's push."""
    from tenants.apikeys import api_key_create

    admin = make_member(org, "admin")
    first, _ = api_key_create(membership=admin, name="ci", role="compliance_manager")
    second, _ = api_key_create(membership=admin, name="ci-2", role="compliance_manager")
    pushed = services.evidence_push_data(
        membership=first, control=control, data={"ok": True}, effective_start=TODAY
    )
    for principal in (admin, second):
        with pytest.raises(NotPermitted) as refused:
            services.evidence_review(membership=principal, version=pushed, decision="accepted")
        assert refused.value.code == "self_review"
    assert _state(pushed) == ReviewState.PENDING
    services.evidence_review(membership=reviewer, version=pushed, decision="accepted")
    assert _state(pushed) == ReviewState.ACCEPTED


# --- the setting: owners only, logged --------------------------------------------------------


def _policy_url(org) -> str:
    return reverse("org_security_review_policy", kwargs={"org_slug": org.slug})


def test_an_owner_turns_it_off_and_on_logged(org, owner, manager, link, client_for):
    from tenants.models import ActivityEntry

    client = client_for(owner)
    page = client.get(reverse("org_security", kwargs={"org_slug": org.slug})).content.decode()
    assert "Require independent review of evidence" in page and _policy_url(org) in page

    off = client.post(_policy_url(org), {}, follow=True)  # the box unticked: off
    assert "Uploaders may now review their own evidence." in off.content.decode()
    org.refresh_from_db()
    assert org.require_independent_review is False
    entry = ActivityEntry.objects.for_org(org).filter(object_type="tenants.organization").get()
    assert entry.action == "update" and entry.actor_label.startswith(owner.user.email)
    assert entry.changes == {"require_independent_review": [True, False]}

    # Now the uploader may review their own version.
    manager.organization.refresh_from_db()
    services.evidence_review(membership=manager, version=link, decision="accepted")
    assert _state(link) == ReviewState.ACCEPTED

    client.post(_policy_url(org), {"require_independent_review": "on"})
    org.refresh_from_db()
    assert org.require_independent_review is True
    entries = ActivityEntry.objects.for_org(org).filter(object_type="tenants.organization")
    assert entries.count() == 2


@pytest.mark.parametrize("role", ["admin", "compliance_manager", "contributor", "auditor"])
def test_only_owners_change_it(org, make_member, client_for, role):
    from tenants.models import ActivityEntry
    from tenants.policies import review_policy_set

    member = make_member(org, role)
    assert client_for(member).post(_policy_url(org), {}).status_code == 403
    with pytest.raises(NotPermitted):
        review_policy_set(membership=member, require_independent_review=False)
    org.refresh_from_db()
    assert org.require_independent_review is True
    assert not ActivityEntry.objects.for_org(org).filter(object_type="tenants.organization")


def test_an_admin_sees_the_setting_but_no_form(org, make_member, client_for):
    admin = make_member(org, "admin")
    page = client_for(admin).get(reverse("org_security", kwargs={"org_slug": org.slug}))
    text = page.content.decode()
    assert "Review of evidence" in text and "Only an owner can change this" in text
    assert _policy_url(org) not in text


def test_an_owner_of_another_organization_cannot_change_it(org, outsider, client_for):
    assert client_for(outsider).post(_policy_url(org), {}).status_code == 404
    org.refresh_from_db()
    assert org.require_independent_review is True
    outsider.organization.refresh_from_db()
    assert outsider.organization.require_independent_review is True
