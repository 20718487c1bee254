"""The training API: requirements with their figures, each requirement's people, recording a
completion from a learning platform (bad input refused clearly), contributors refused, every
route 404 across organizations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tenants.models import Role
from tests.api.conftest import org_url
from tests.training.conftest import person
from training import services
from training.models import TrainingCompletion

pytestmark = pytest.mark.django_db


def test_status_and_recording_a_completion(org, manager, module, api_for, key_client):
    ana = person(org, "Ana", start_date=dt.date(2020, 1, 1))
    person(org, "Bo", start_date=timezone.localdate())
    services.assignment_add(membership=manager, requirement=module, target="everyone")
    client = api_for(manager)
    listed = client.get(org_url(org, "training/")).json()
    assert listed["results"][0]["covered"] == 2 and listed["results"][0]["overdue"] == 1
    rows = client.get(org_url(org, f"training/{module.pk}/status/")).json()["results"]
    assert [(r["email"], r["overdue"]) for r in rows] == [
        ("ana@example.com", True),
        ("bo@example.com", False),
    ]
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    key = key_client(org)
    made = key.post(
        org_url(org, f"training/{module.pk}/completions/"),
        {"email": "ANA@example.com", "completed_on": day, "provider": "KnowBe4"},
    )
    assert made.status_code == 201, made.json()
    assert made.json()["source"] == "api" and made.json()["person"] == ana.pk
    one = client.get(org_url(org, f"training/{module.pk}/")).json()
    assert one["current"] == 1 and one["overdue"] == 0
    again = key.post(
        org_url(org, f"training/{module.pk}/completions/"),
        {"email": "ana@example.com", "completed_on": day},
    )
    assert again.status_code == 409
    for body in (
        {"email": "nobody@example.com", "completed_on": day},
        {"email": "ana@example.com", "completed_on": "2999-01-01"},
        {"email": "ana@example.com", "completed_on": "yesterday"},
        {"email": "ana@example.com", "completed_on": day, "extra": 1},
    ):
        bad = key.post(org_url(org, f"training/{module.pk}/completions/"), body)
        assert bad.status_code == 400 and bad.json()["detail"], body
    assert TrainingCompletion.objects.for_org(org).count() == 1


def test_contributors_are_refused_and_other_organizations_not_found(
    org, manager, module, make_member, outsider, api_for
):
    contributor = make_member(org, Role.CONTRIBUTOR)
    assert api_for(contributor).get(org_url(org, "training/")).status_code == 403
    client = api_for(outsider)
    other = outsider.organization
    assert client.get(org_url(other, "training/")).json()["results"] == []
    for path in (f"training/{module.pk}/", f"training/{module.pk}/status/"):
        assert client.get(org_url(other, path)).status_code == 404
        assert client.get(org_url(org, path)).status_code == 404
    posted = client.post(
        org_url(other, f"training/{module.pk}/completions/"),
        {"email": "ana@example.com", "completed_on": "2026-01-01"},
    )
    assert posted.status_code == 404
    assert client.get(org_url(other, "training/abc/")).status_code == 404
