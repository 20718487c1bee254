"""Training as evidence by itself (issue 17): the monthly completion snapshot (as of the
month's last day, written once, counted by readiness), "Record as evidence now" on the
requirement's page and through the API with its roles and another organization's
requirement, and constant query counts whatever the number of people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.models import Control
from controls.periods import PeriodStatus
from controls.readiness import audit_readiness
from evidence.models import EvidenceVersion, ReviewState
from evidence.snapshots import previous_month
from people.models import Person
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import control_map
from tests.training.conftest import done, person
from training import services
from training.evidence import REVIEWER, completion_snapshots_monthly
from training.models import TrainingRequirement

pytestmark = pytest.mark.django_db

ADOPTED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def snapshots(org, req):
    return EvidenceVersion.objects.for_org(org).filter(item__system_key=f"training:{req.pk}")


def assign_everyone(manager, req) -> None:
    services.assignment_add(membership=manager, requirement=req, target="everyone")


def long_ago(org, req) -> None:
    """Adopted years ago (a snapshot never speaks for days before its requirement)."""
    TrainingRequirement.objects.for_org(org).filter(pk=req.pk).update(created_at=ADOPTED)


@pytest.mark.postgres
def test_the_monthly_snapshot_counts_as_of_the_month_s_last_day(
    org, manager, module, make_audit, client_for
):
    today = timezone.localdate()
    first, last = previous_month(today)
    long_ago(org, module)
    control = Control.objects.for_org(org).get(code="HR-03")
    Control.objects.for_org(org).filter(pk=control.pk).update(
        frequency="monthly", created_at=ADOPTED
    )
    control_map(control, "CC1.4")
    assign_everyone(manager, module)
    ana, bo, _cy, di = (
        person(org, "Ana"),
        person(org, "Bo"),  # never completed: overdue since 2024
        person(org, "Cy", start_date=last - dt.timedelta(days=10)),  # due after the month
        person(org, "Di"),
    )
    done(org, ana, module, first + dt.timedelta(days=4))
    done(org, bo, module, dt.date(2024, 1, 20))  # a year and more before: overdue again
    done(org, di, module, today)  # after the month: not in its figures

    assert completion_snapshots_monthly(today=today.replace(day=1)) == 1
    assert completion_snapshots_monthly(today=today.replace(day=1)) == 0  # the same month again
    [snapshot] = snapshots(org, module).select_related("item")
    assert (snapshot.effective_start, snapshot.effective_end) == (first, last)
    assert snapshot.item.title == "Training: Security awareness"
    assert snapshot.review_state == ReviewState.ACCEPTED
    assert snapshot.reviewed_by_label == REVIEWER
    assert snapshot.data == {
        "source": "training",
        "requirement": {"id": module.pk, "title": "Security awareness"},
        "as_of": last.isoformat(),
        "assigned": 4,
        "completed_in_cycle": 1,
        "overdue": 2,
        "rate_percent": 25.0,
    }
    audit = make_audit(org, window=(first, last))
    periods = [s for _, s in audit_readiness(audit).controls[control.pk].periods]
    assert periods == [PeriodStatus.COVERED]
    page = client_for(manager).get(reverse("evidence_item", args=[org.slug, snapshot.item_id]))
    assert "<strong>1 of 4</strong> people assigned completed it (25.0%), 2 overdue" in (
        page.content.decode()
    )


def test_no_snapshot_for_nobody_assigned_or_a_month_before_the_training(
    org, manager, module, course
):
    today = timezone.localdate()
    person(org, "Ana")
    assert completion_snapshots_monthly(today=today) == 0  # not assigned; course: no control
    assign_everyone(manager, module)
    assert completion_snapshots_monthly(today=today) == 0  # adopted this month
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_record_now_from_the_requirement_s_page(
    org, manager, module, contributor, make_member, outsider, client_for
):
    assign_everyone(manager, module)
    ana = person(org, "Ana")
    done(org, ana, module, timezone.localdate())
    path = reverse("training_evidence", args=[org.slug, module.pk])
    page = client_for(manager).get(reverse("training_detail", args=[org.slug, module.pk]))
    html = page.content.decode()
    assert f'action="{path}"' in html
    assert "<title>Training: Security awareness" in html  # not the completions table
    for member in (contributor, make_member(org, Role.AUDITOR)):
        assert client_for(member).post(path).status_code == 403
    theirs = reverse("training_evidence", args=[outsider.organization.slug, module.pk])
    assert client_for(outsider).post(theirs).status_code == 404
    assert not snapshots(org, module).exists()

    response = client_for(manager).post(path, follow=True)
    [snapshot] = snapshots(org, module)
    today = timezone.localdate()
    assert (snapshot.effective_start, snapshot.effective_end) == (today, today)  # adopted today
    assert snapshot.data["completed_in_cycle"] == 1 and snapshot.data["assigned"] == 1
    assert "Recorded as evidence of HR-03" in response.content.decode()


def test_record_now_through_the_api(org, manager, module, course, api_for, key_client, outsider):
    path = f"training/{module.pk}/evidence/"
    refused = api_for(manager).post(org_url(org, path))
    assert refused.status_code == 400 and "assign it first" in refused.json()["detail"]
    assign_everyone(manager, module)
    assign_everyone(manager, course)
    person(org, "Ana")
    no_control = api_for(manager).post(org_url(org, f"training/{course.pk}/evidence/"))
    assert no_control.status_code == 400 and no_control.json()["code"] == "nothing_to_record"
    assert key_client(org, Role.CONTRIBUTOR).post(org_url(org, path)).status_code == 403
    assert api_for(outsider).post(org_url(outsider.organization, path)).status_code == 404
    created = api_for(manager).post(org_url(org, path))
    assert created.status_code == 201, created.json()
    [row] = created.json()
    assert row["item_title"] == "Training: Security awareness"
    assert row["data"]["assigned"] == 1 and row["data"]["completed_in_cycle"] == 0


@pytest.mark.postgres
def test_snapshots_take_the_same_queries_for_10_or_200_people(
    org, manager, module, client_for, api_for
):
    long_ago(org, module)
    assign_everyone(manager, module)
    client, api = client_for(manager), api_for(manager)
    page = reverse("training_evidence", args=[org.slug, module.pk])
    person(org, "Ana")
    assert client.post(page).status_code == 302  # the item and the session exist from now
    assert snapshots(org, module).exists()
    month = timezone.localdate().replace(day=1)
    counts = []
    for n in (10, 190):
        added = Person.objects.bulk_create(
            Person(
                organization=org,
                full_name=f"P{n}-{i}",
                email=f"p{n}-{i}@example.com",
                start_date=dt.date(2024, 1, 1),
            )
            for i in range(n)
        )
        for who in added[::3]:
            done(org, who, module, timezone.localdate() - dt.timedelta(days=40))
        with CaptureQueriesContext(connection) as monthly:
            assert completion_snapshots_monthly(today=month) == 1
        with CaptureQueriesContext(connection) as posted:
            assert client.post(page).status_code == 302
        with CaptureQueriesContext(connection) as called:
            assert api.post(org_url(org, f"training/{module.pk}/evidence/")).status_code == 201
        counts.append((len(monthly), len(posted), len(called)))
        month = previous_month(month)[0]  # the next round writes the month before
    assert counts[0] == counts[1], counts
    assert snapshots(org, module).order_by("-number").first().data["assigned"] == 201
