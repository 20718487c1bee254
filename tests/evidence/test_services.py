"""Evidence write services: versions, integrity, validation, permissions, removal, review."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from evidence import services
from evidence.models import EvidenceItem, EvidenceVersion, Freshness, ReviewState
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.evidence.conftest import HTML, pdf_bytes, zip_bomb
from tests.factories import ControlFactory, EvidenceItemFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_WEEK = TODAY - dt.timedelta(days=7)


def _submit(membership, control, upload, **kwargs):
    kwargs.setdefault("effective_start", LAST_WEEK)
    return services.evidence_submit_file(
        membership=membership, control=control, upload=upload, **kwargs
    )


# --- files: storage, hashing, versions ------------------------------------------------------


def test_a_file_becomes_version_1_with_its_hash_and_a_random_storage_key(manager, control, upload):
    data = pdf_bytes("q1")
    version = _submit(manager, control, upload(data, "Q1 access review.pdf"), title="Q1 review")

    assert version.number == 1 and version.kind == "file"
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.size == len(data)
    assert version.content_type == "application/pdf"
    assert version.original_name == "Q1 access review.pdf"
    assert version.uploaded_by == manager.user and version.uploaded_by_label == manager.user.email
    # Stored under a random key in the organization's folder, never under the user's name.
    assert version.file.name.startswith(f"evidence/{control.organization_id}/")
    assert "review" not in version.file.name
    with default_storage.open(version.file.name, "rb") as fh:
        stored = fh.read()
    assert hashlib.sha256(stored).hexdigest() == version.sha256
    entry = ActivityEntry.objects.for_org(control.organization).get(action="upload")
    assert entry.object_id == str(version.pk) and entry.changes["sha256"][1] == version.sha256


def test_new_uploads_are_new_versions_and_never_replace_old_ones(manager, control, upload):
    first = _submit(manager, control, upload(pdf_bytes("v1")), title="Access review")
    second = _submit(manager, control, upload(pdf_bytes("v2")), item=first.item)
    third = _submit(manager, control, upload(pdf_bytes("v3")), item=first.item)

    versions = list(EvidenceVersion.objects.for_org(control.organization).filter(item=first.item))
    assert [v.number for v in versions] == [3, 2, 1]
    assert len({v.sha256 for v in versions}) == 3
    assert len({v.file.name for v in versions}) == 3
    first.refresh_from_db()
    assert first.sha256 == hashlib.sha256(pdf_bytes("v1")).hexdigest()
    with default_storage.open(first.file.name, "rb") as fh:
        assert fh.read() == pdf_bytes("v1")
    assert second.item_id == third.item_id == first.item_id


def test_valid_until_follows_the_frequency_and_the_effective_end(catalog, manager, control, upload):
    start, end = TODAY - dt.timedelta(days=100), TODAY - dt.timedelta(days=10)
    version = _submit(manager, control, upload(), effective_start=start, effective_end=end)
    assert (version.effective_start, version.effective_end) == (start, end)
    # quarterly: 92 days of validity plus the 14-day grace period, from the end of the period
    assert version.valid_until == end + dt.timedelta(days=92 + 14)
    assert version.freshness == version.notified_freshness == Freshness.FRESH


def test_old_evidence_is_stored_as_stale_and_not_notified_later(manager, control, upload):
    version = _submit(manager, control, upload(), effective_start=TODAY - dt.timedelta(days=400))
    assert version.freshness == version.notified_freshness == Freshness.STALE


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "empty.pdf", "empty"),
        (HTML, "report.pdf", "html_not_allowed"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "chart.png", "svg_not_allowed"),
        (b"#!/bin/sh\nrm -rf /\n", "notes.txt", "executable_not_allowed"),
        (b"MZ\x90\x00" + b"\x00" * 60, "invoice.pdf", "executable_not_allowed"),
        (b"name;city\nJos\xe9;Z\xfcrich\n" * 20, "export.csv", "not_utf8"),
        (zip_bomb(), "export.zip", "zip_bomb"),
    ],
)
def test_refused_uploads_say_why_and_leave_no_file(
    manager, control, upload, media_files, data, name, code
):
    with pytest.raises(ValidationFailed) as exc:
        _submit(manager, control, upload(data, name))
    assert exc.value.field == "file" and exc.value.code == code
    assert exc.value.message.endswith(".") and len(exc.value.message) > 20
    assert media_files() == []
    assert not EvidenceVersion.objects.for_org(control.organization).exists()


def test_too_large_upload_names_the_limit(manager, control, upload, media_files, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationFailed, match="the limit is 1 KB") as exc:
        _submit(manager, control, upload(pdf_bytes("x" * 2000)))
    assert exc.value.code == "too_large"
    assert media_files() == []


def test_a_refusal_after_the_file_was_stored_removes_it(manager, control, upload, media_files):
    other_items_control = ControlFactory(organization=control.organization)
    foreign_item = EvidenceItemFactory(control=other_items_control)
    with pytest.raises(NotFound):
        _submit(manager, control, upload(), item=foreign_item)
    assert media_files() == []


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (None, None, "effective_start", "Give the date"),
        (TODAY + dt.timedelta(days=1), None, "effective_start", "future"),
        (LAST_WEEK, TODAY + dt.timedelta(days=1), "effective_end", "cannot end in the future"),
        (LAST_WEEK, LAST_WEEK - dt.timedelta(days=1), "effective_end", "end on or after"),
        (TODAY - dt.timedelta(days=800), TODAY, "effective_end", "at most two years"),
    ],
)
def test_the_effective_period_is_checked(
    manager, control, upload, media_files, start, end, field, message
):
    with pytest.raises(ValidationFailed, match=message) as exc:
        _submit(manager, control, upload(), effective_start=start, effective_end=end)
    assert exc.value.field == field
    assert media_files() == []


def test_a_single_day_is_a_period_of_one_day(manager, control, upload):
    version = _submit(manager, control, upload(), effective_start=TODAY)
    assert version.effective_start == version.effective_end == TODAY


def test_title_is_checked_for_new_items(manager, control):
    with pytest.raises(ValidationFailed, match="under 200") as exc:
        services.evidence_add_link(
            membership=manager,
            control=control,
            url="https://tickets.example.com/1",
            effective_start=LAST_WEEK,
            title="x" * 201,
        )
    assert exc.value.field == "title"
    with pytest.raises(ValidationFailed, match="Give the evidence a title"):
        services.evidence_add_link(
            membership=manager,
            control=control,
            url="https://tickets.example.com/1",
            effective_start=LAST_WEEK,
            title="   ",
        )


# --- permissions and organizations ----------------------------------------------------------


def test_the_control_owner_may_add_evidence(contributor, control, upload):
    assert _submit(contributor, control, upload()).uploaded_by == contributor.user


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_auditors_and_contributors_who_do_not_own_the_control_are_refused(
    org, make_member, control, upload, media_files, role
):
    member = make_member(org, role)
    with pytest.raises(NotPermitted, match="control's owner"):
        _submit(member, control, upload())
    with pytest.raises(NotPermitted):
        services.evidence_add_link(
            membership=member, control=control, url="https://x.example.com", effective_start=TODAY
        )
    with pytest.raises(NotPermitted):
        services.evidence_push_data(
            membership=member, control=control, data={"ok": True}, effective_start=TODAY
        )
    assert media_files() == []


def test_another_organizations_control_is_not_found_even_for_its_owner_role(
    manager, outsider, control, foreign_control, upload, media_files
):
    with pytest.raises(NotFound):
        _submit(manager, foreign_control, upload())
    with pytest.raises(NotFound):
        services.evidence_add_link(
            membership=outsider, control=control, url="https://x.example.com", effective_start=TODAY
        )
    assert media_files() == []
    assert not EvidenceItem.objects.for_org(control.organization).exists()


def test_evidence_of_another_control_cannot_get_a_version_here(manager, control):
    other = ControlFactory(organization=control.organization)
    link = services.evidence_add_link(
        membership=manager, control=other, url="https://x.example.com", effective_start=TODAY
    )
    with pytest.raises(NotFound):
        services.evidence_add_link(
            membership=manager,
            control=control,
            url="https://y.example.com",
            effective_start=TODAY,
            item=link.item,
        )


# --- links and data records -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "full http"),
        ("javascript:alert(1)", "full http"),
        ("ftp://files.example.com/report", "full http"),
        ("https://example.com/" + "a" * 2100, "under 2,000"),
    ],
)
def test_links_must_be_web_addresses(manager, control, url, message):
    with pytest.raises(ValidationFailed, match=message) as exc:
        services.evidence_add_link(
            membership=manager, control=control, url=url, effective_start=TODAY
        )
    assert exc.value.field == "url"


def test_a_link_is_hashed_and_titled_by_its_address(manager, control):
    url = "https://jira.example.com/browse/SEC-42"
    version = services.evidence_add_link(
        membership=manager, control=control, url=f"  {url} ", effective_start=TODAY
    )
    assert version.url == url and version.item.title == url
    assert version.sha256 == hashlib.sha256(url.encode()).hexdigest()


def test_data_records_are_hashed_canonically(manager, control):
    version = services.evidence_push_data(
        membership=manager, control=control, data={"b": 1, "a": [1, 2]}, effective_start=TODAY
    )
    assert version.sha256 == hashlib.sha256(b'{"a":[1,2],"b":1}').hexdigest()
    assert version.size == len(b'{"a":[1,2],"b":1}')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "non-empty JSON"),
        ("text", "non-empty JSON"),
        ({"value": float("nan")}, "no NaN"),
        ({"blob": "x" * 2048}, "the limit is 1,024"),
    ],
)
def test_data_records_are_checked(manager, control, settings, data, message):
    settings.EVIDENCE_MAX_DATA_BYTES = 1024
    with pytest.raises(ValidationFailed, match=message):
        services.evidence_push_data(
            membership=manager, control=control, data=data, effective_start=TODAY
        )


# --- review ---------------------------------------------------------------------------------


@pytest.fixture
def version(manager, control):
    return services.evidence_add_link(
        membership=manager, control=control, url="https://x.example.com", effective_start=TODAY
    )


def test_a_compliance_manager_accepts_and_rejects_with_a_comment(reviewer, version):
    services.evidence_review(membership=reviewer, version=version, decision="accepted")
    version.refresh_from_db()
    assert version.review_state == ReviewState.ACCEPTED and version.reviewed_by == reviewer.user
    services.evidence_review(
        membership=reviewer, version=version, decision="rejected", comment="Wrong quarter"
    )
    version.refresh_from_db()
    assert (version.review_state, version.review_comment) == ("rejected", "Wrong quarter")
    entries = ActivityEntry.objects.for_org(version.organization).filter(action="review")
    assert [e.changes["review_state"] for e in entries] == [
        ["accepted", "rejected"],
        ["pending", "accepted"],
    ]


def test_rejecting_needs_a_comment_and_a_known_decision(reviewer, version):
    with pytest.raises(ValidationFailed, match="Say why") as exc:
        services.evidence_review(membership=reviewer, version=version, decision="rejected")
    assert exc.value.field == "comment"
    with pytest.raises(ValidationFailed, match="accept or reject"):
        services.evidence_review(membership=reviewer, version=version, decision="maybe")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_only_managers_review(org, make_member, version, role):
    with pytest.raises(NotPermitted):
        services.evidence_review(
            membership=make_member(org, role), version=version, decision="accepted"
        )


def test_the_control_owner_cannot_review_their_own_evidence(contributor, version):
    with pytest.raises(NotPermitted):
        services.evidence_review(membership=contributor, version=version, decision="accepted")


def test_reviewing_another_organizations_evidence_is_not_found(outsider, version):
    with pytest.raises(NotFound):
        services.evidence_review(membership=outsider, version=version, decision="accepted")


# --- removal --------------------------------------------------------------------------------


def test_removal_is_recorded_and_keeps_the_versions(contributor, manager, version):
    item = version.item
    with pytest.raises(ValidationFailed, match="Say why") as exc:
        services.evidence_item_remove(membership=contributor, item=item, reason="  ")
    assert exc.value.field == "reason"
    services.evidence_item_remove(membership=contributor, item=item, reason="Wrong control")
    item.refresh_from_db()
    assert item.is_removed and item.removal_reason == "Wrong control"
    assert EvidenceVersion.objects.for_org(item.organization).filter(item=item).count() == 1
    assert ActivityEntry.objects.for_org(item.organization).filter(action="remove").exists()
    with pytest.raises(ValidationFailed, match="already removed"):
        services.evidence_item_remove(membership=manager, item=item, reason="again")
    with pytest.raises(ValidationFailed, match="removed"):
        services.evidence_review(membership=manager, version=version, decision="accepted")
    with pytest.raises(ValidationFailed, match="removed"):
        services.evidence_add_link(
            membership=manager,
            control=item.control,
            url="https://x.example.com",
            effective_start=TODAY,
            item=item,
        )


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_removal_is_refused_to_auditors_and_other_contributors(org, make_member, version, role):
    with pytest.raises(NotPermitted):
        services.evidence_item_remove(
            membership=make_member(org, role), item=version.item, reason="x"
        )


def test_removing_another_organizations_item_is_not_found(outsider, version):
    with pytest.raises(NotFound):
        services.evidence_item_remove(membership=outsider, item=version.item, reason="x")


# --- validity and freshness rules -----------------------------------------------------------


def test_freshness_of_at_its_boundaries(settings):
    settings.EVIDENCE_EXPIRING_DAYS = 14
    day = dt.timedelta(days=1)
    assert services.freshness_of(TODAY - day, TODAY) == Freshness.STALE
    assert services.freshness_of(TODAY, TODAY) == Freshness.EXPIRING
    assert services.freshness_of(TODAY + 13 * day, TODAY) == Freshness.EXPIRING
    assert services.freshness_of(TODAY + 14 * day, TODAY) == Freshness.FRESH


def test_valid_until_for_each_frequency(catalog, settings):
    settings.EVIDENCE_GRACE_DAYS = 0
    end = dt.date(2025, 3, 31)
    assert services.valid_until_for(end, "annual") == end + dt.timedelta(days=365)
    assert services.valid_until_for(end, "monthly") == end + dt.timedelta(days=31)
    assert services.valid_until_for(end, "daily") == end + dt.timedelta(days=1)
