"""Policies as evidence by themselves (issue 17): an approval recorded on the controls the
policy supports, in the approval's transaction; the monthly acceptance snapshot (written once
a month, effective over the month it covers, counted by readiness, taken back by a
rejection); the manager's "Record as evidence now" (page and API) with its roles, another
organization's policy, and constant query counts whatever the number of people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.models import Control
from controls.periods import PeriodStatus
from controls.readiness import audit_readiness
from evidence.models import EvidenceKind, EvidenceVersion, ReviewState
from evidence.review import evidence_review
from evidence.snapshots import previous_month
from people.models import Person
from policies import services
from policies.acceptance import acceptance_store, assignment_add
from policies.evidence import (
    APPROVAL_REVIEWER,
    acceptance_snapshot_record,
    acceptance_snapshots_monthly,
)
from policies.models import AcceptanceChannel, PolicyVersion
from reports.services import auditor_access_grant
from soc2app.errors import ValidationFailed
from tenants.activity import Actor
from tenants.models import ActivityEntry, Role
from tests.api.conftest import org_url
from tests.factories import control_map
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db


def people(org, n: int, start: dt.date = dt.date(2024, 1, 1), batch: str = "p") -> list[Person]:
    return Person.objects.bulk_create(
        Person(
            organization=org,
            full_name=f"Person {batch}{i:04d}",
            email=f"{batch}{i}@example.com",
            department="Engineering",
            start_date=start,
        )
        for i in range(n)
    )


def accept(org, person, version, when: dt.datetime) -> None:
    acceptance_store(
        org, person, version, when, "203.0.113.9", "test", AcceptanceChannel.LINK, Actor.system()
    )


def snapshots(org, policy):
    return EvidenceVersion.objects.for_org(org).filter(
        item__system_key=f"policy-acceptance:{policy.pk}"
    )


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def approved(org, manager, approver, adopted):
    version = approve(manager, approver, adopted)
    adopted.refresh_from_db()
    return adopted, version


def test_an_approval_is_recorded_on_each_control_the_policy_supports(
    org, manager, approver, adopted, client_for
):
    version = approve(manager, approver, adopted)
    adopted.refresh_from_db()
    [evidence] = EvidenceVersion.objects.for_org(org).select_related("item__control")
    today = timezone.localdate()
    assert evidence.item.control.code == "AC-01"  # AC-99 is not in this organization
    assert evidence.item.title == "Policy: Access Control Policy"
    assert evidence.item.system_key == f"policy:{adopted.pk}"
    assert (evidence.kind, evidence.review_state) == (EvidenceKind.SYSTEM, ReviewState.ACCEPTED)
    assert evidence.reviewed_by_label == APPROVAL_REVIEWER
    assert evidence.effective_start == evidence.effective_end == today
    # Current until the next review (then "expiring" for the usual days).
    assert evidence.valid_until == adopted.next_review_date + dt.timedelta(
        days=settings.EVIDENCE_EXPIRING_DAYS
    )
    assert evidence.data == {
        "source": "policy-approval",
        "policy": {"id": adopted.pk, "title": "Access Control Policy"},
        "version": 1,
        "sha256": version.sha256,
        "approved_by": approver.user.email,
        "approved_at": version.approved_at.isoformat(),
        "next_review_date": adopted.next_review_date.isoformat(),
    }
    assert (
        ActivityEntry.objects.for_org(org)
        .filter(
            object_repr="Access Control Policy v1: approval", object_type="evidence.evidenceversion"
        )
        .exists()
    )
    # The evidence page says what it is, readably.
    page = client_for(manager).get(reverse("evidence_item", args=[org.slug, evidence.item_id]))
    html = page.content.decode()
    assert "Access Control Policy, version 1, approved by" in html
    assert version.sha256 in html
    # The next approved version adds a version to the same item.
    services.version_start(membership=manager, policy=adopted)
    approve(manager, approver, adopted)
    numbers = EvidenceVersion.objects.for_org(org).values_list("item_id", "number")
    assert sorted(numbers) == [(evidence.item_id, 1), (evidence.item_id, 2)]


def test_a_policy_supporting_no_control_records_nothing(org, manager, approver):
    policy = services.policy_create(membership=manager, title="Clean desk", body="# Clean\n")
    services.policy_settings(
        membership=manager, policy=policy, owner=manager, approver=approver, review_cadence_months=6
    )
    approve(manager, approver, policy)
    assert not EvidenceVersion.objects.for_org(org).exists()
    assign_everyone(manager, policy)
    people(org, 2)
    with pytest.raises(ValidationFailed, match="supports no control"):
        acceptance_snapshot_record(membership=manager, policy=policy)


def test_the_evidence_is_written_in_the_approval_s_transaction(
    org, manager, approver, adopted, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("storage down")

    monkeypatch.setattr(services, "approval_evidence_record", broken)
    with pytest.raises(RuntimeError):
        approve(manager, approver, adopted)
    version = PolicyVersion.objects.for_org(org).get(policy=adopted)
    assert version.state == "in_review" and not version.sha256  # the approval rolled back


def assign_everyone(manager, policy) -> None:
    assignment_add(membership=manager, policy=policy, target="everyone", send=False)


@pytest.mark.postgres
def test_monthly_snapshots_cover_their_months_once_and_a_rejection_takes_one_back(
    org, manager, reviewer, approved, make_audit, client_for
):
    policy, version = approved
    today = timezone.localdate()
    last_month = previous_month(today)
    month_before = previous_month(last_month[0])
    # Approved before both months (the approval's own evidence shows today, outside them).
    PolicyVersion.objects.for_org(org).filter(pk=version.pk).update(
        approved_at=noon(month_before[0] - dt.timedelta(days=10))
    )
    control = Control.objects.for_org(org).get(code="AC-01")
    Control.objects.for_org(org).filter(pk=control.pk).update(
        frequency="monthly", created_at=noon(dt.date(2024, 1, 1))
    )
    control_map(control, "CC6.1")
    assign_everyone(manager, policy)
    ana, bo, cy, di = people(org, 4)
    accept(org, ana, version, noon(month_before[0] + dt.timedelta(days=3)))
    accept(org, bo, version, noon(last_month[0] + dt.timedelta(days=2)))
    accept(org, cy, version, noon(last_month[1]))

    assert acceptance_snapshots_monthly(today=last_month[0]) == 1  # the month before
    assert acceptance_snapshots_monthly(today=last_month[0] + dt.timedelta(days=3)) == 0
    assert acceptance_snapshots_monthly(today=today.replace(day=1)) == 1  # last month
    assert acceptance_snapshots_monthly(today=today.replace(day=1)) == 0  # the same month again
    first, second = snapshots(org, policy).order_by("number")
    assert (first.effective_start, first.effective_end) == month_before
    assert (second.effective_start, second.effective_end) == last_month
    assert first.review_state == second.review_state == ReviewState.ACCEPTED
    assert first.data == {
        "source": "policy-acceptance",
        "policy": {"id": policy.pk, "title": "Access Control Policy"},
        "version": 1,
        "sha256": version.sha256,
        "as_of": month_before[1].isoformat(),
        "people_covered": 4,
        "accepted": 1,
        "rate_percent": 25.0,
        "not_accepted": 3,
    }
    assert (second.data["accepted"], second.data["not_accepted"]) == (3, 1)  # by the last day

    audit = make_audit(org, window=(month_before[0], last_month[1]))
    periods = [s for _, s in audit_readiness(audit).controls[control.pk].periods]
    assert periods == [PeriodStatus.COVERED, PeriodStatus.COVERED]
    # The control's evidence page lists it; the item's page says the figures.
    client = client_for(manager)
    html = client.get(reverse("control_detail", args=[org.slug, control.pk])).content.decode()
    assert "Policy acceptance: Access Control Policy" in html
    item = client.get(reverse("evidence_item", args=[org.slug, second.item_id])).content.decode()
    assert "<strong>3 of 4</strong> people accepted (75.0%), 1 not yet" in item

    evidence_review(
        membership=reviewer, version=second, decision="rejected", comment="Roster was wrong"
    )
    periods = [s for _, s in audit_readiness(audit).controls[control.pk].periods]
    assert periods == [PeriodStatus.COVERED, PeriodStatus.MISSING]
    # The next day's run does not write the rejected month again.
    assert acceptance_snapshots_monthly(today=today.replace(day=1) + dt.timedelta(days=1)) == 0


def test_a_month_s_snapshot_starts_on_the_day_its_version_was_approved(org, manager, approved):
    policy, version = approved
    today = timezone.localdate()
    assign_everyone(manager, policy)
    people(org, 3)
    next_month = (today.replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    assert acceptance_snapshots_monthly(today=next_month) == 1
    [snapshot] = snapshots(org, policy)
    assert (snapshot.effective_start, snapshot.data["accepted"]) == (today, 0)
    # Nothing approved before this month: nothing for the month before.
    assert acceptance_snapshots_monthly(today=today.replace(day=1)) == 0


def test_record_now_from_the_acceptance_page(
    org, manager, approved, contributor, make_member, outsider, client_for
):
    policy, version = approved
    assign_everyone(manager, policy)
    ana, _bo = people(org, 2)
    accept(org, ana, version, timezone.now())
    path = reverse("policy_acceptance_evidence", args=[org.slug, policy.pk])
    page = client_for(manager).get(reverse("policy_acceptance", args=[org.slug, policy.pk]))
    assert f'action="{path}"' in page.content.decode()
    for member in (contributor, make_member(org, Role.AUDITOR)):
        assert client_for(member).post(path).status_code == 403
    theirs = reverse("policy_acceptance_evidence", args=[outsider.organization.slug, policy.pk])
    assert client_for(outsider).post(theirs).status_code == 404
    assert not snapshots(org, policy).exists()

    response = client_for(manager).post(path, follow=True)
    today = timezone.localdate()
    [snapshot] = snapshots(org, policy)
    assert (snapshot.effective_start, snapshot.effective_end) == (today, today)  # approved today
    assert snapshot.data["accepted"] == 1 and snapshot.data["people_covered"] == 2
    assert snapshot.uploaded_by_id == manager.user_id
    assert "Recorded as evidence of AC-01" in response.content.decode()
    # Accepted when written: the manager who pressed the button is not told to wait for a review.
    item = client_for(manager).get(reverse("evidence_item", args=[org.slug, snapshot.item_id]))
    assert "another manager can still reject it" in item.content.decode()
    assert "another manager reviews it" not in item.content.decode()


def test_record_now_refuses_clearly_when_there_is_nothing_to_record(
    org, manager, adopted, client_for
):
    path = reverse("policy_acceptance_evidence", args=[org.slug, adopted.pk])
    response = client_for(manager).post(path, follow=True)
    assert "No version of this policy is approved yet" in response.content.decode()
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_record_now_through_the_api(org, manager, approved, api_for, key_client, outsider):
    policy, _version = approved
    path = f"policies/{policy.pk}/acceptance-evidence/"
    refused = api_for(manager).post(org_url(org, path))
    assert refused.status_code == 400 and refused.json()["code"] == "nothing_to_record"
    assert "assign it first" in refused.json()["detail"]
    assign_everyone(manager, policy)
    people(org, 3)
    assert key_client(org, "read_only").post(org_url(org, path)).status_code == 403
    assert api_for(outsider).post(org_url(outsider.organization, path)).status_code == 404
    created = api_for(manager).post(org_url(org, path))
    assert created.status_code == 201, created.json()
    [row] = created.json()
    assert row["item_title"] == "Policy acceptance: Access Control Policy"
    assert row["review_state"] == "accepted" and row["kind"] == "system"
    assert row["data"]["people_covered"] == 3 and row["data"]["rate_percent"] == 0.0


@pytest.mark.postgres
def test_snapshots_take_the_same_queries_for_10_or_200_people(
    org, manager, approved, client_for, api_for
):
    policy, version = approved
    assign_everyone(manager, policy)
    today = timezone.localdate()
    next_month = (today.replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    client, api = client_for(manager), api_for(manager)
    page = reverse("policy_acceptance_evidence", args=[org.slug, policy.pk])
    people(org, 1, batch="first")
    acceptance_snapshot_record(membership=manager, policy=policy)  # the item exists from now
    client.get(reverse("policy_acceptance", args=[org.slug, policy.pk]))  # the session too
    counts = []
    for n in (9, 190):
        for person in people(org, n, batch=f"round{n}"):
            if person.pk % 2:
                accept(org, person, version, timezone.now())
        with CaptureQueriesContext(connection) as monthly:
            assert acceptance_snapshots_monthly(today=next_month) == 1
        with CaptureQueriesContext(connection) as posted:
            assert client.post(page).status_code == 302
        with CaptureQueriesContext(connection) as called:
            response = api.post(org_url(org, f"policies/{policy.pk}/acceptance-evidence/"))
            assert response.status_code == 201
        counts.append((len(monthly), len(posted), len(called)))
        # The next round's monthly run: the snapshot is for a month without one.
        next_month = (next_month.replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    assert counts[0] == counts[1], counts
    assert snapshots(org, policy).order_by("-number").first().data["people_covered"] == 200


def test_the_auditor_portal_shows_the_figures(
    org, manager, approved, make_audit, make_member, client_for
):
    policy, _version = approved
    control = control_map(Control.objects.for_org(org).get(code="AC-01"), "CC6.1")
    assign_everyone(manager, policy)
    people(org, 4)
    [snapshot] = acceptance_snapshot_record(membership=manager, policy=policy)
    audit = make_audit(org, as_of=timezone.localdate())
    auditor = make_member(org, Role.AUDITOR)
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    client = client_for(auditor)
    args = {"org_slug": org.slug, "audit_pk": audit.pk}
    listed = client.get(reverse("portal_control", kwargs={**args, "pk": control.pk}))
    assert "Policy acceptance: Access Control Policy" in listed.content.decode()
    page = client.get(reverse("portal_evidence_item", kwargs={**args, "pk": snapshot.item_id}))
    html = page.content.decode()
    assert "<strong>0 of 4</strong> people accepted (0.0%), 4 not yet" in html
    assert reverse("policy_acceptance", args=[org.slug, policy.pk]) not in html  # no manager link
