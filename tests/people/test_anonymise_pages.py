"""Anonymising from the pages (a person's page, the roster's "past retention" page, each
behind a ticked confirmation), the API action, the managers' to-do, and what a person's
links do afterwards. Managers only; another organization's person is not found."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import anonymise
from people.models import Person
from people.todo import retention_todos
from tests.people.anonymise_world import RETENTION, world
from tests.policies.conftest import adopted, approver, library
from tests.training.conftest import module
from training.models import TrainingCompletion

pytestmark = pytest.mark.django_db

__all__ = ["adopted", "approver", "library", "module", "world"]  # fixtures


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def api(org, person) -> str:
    return f"/api/v1/orgs/{org.slug}/people/{person.pk}/anonymise/"


def _fresh(org, person) -> Person:
    return Person.objects.for_org(org).get(pk=person.pk)


def test_a_manager_anonymises_from_the_persons_page_after_confirming(
    org, manager, client_for, world
):
    client = client_for(manager)
    page = client.get(url("person_detail", org, pk=world.ada.pk)).content.decode()
    assert "Anonymise this person" in page and "The retention period ended on" in page
    # Too early: said, and no button.
    page = client.get(url("person_detail", org, pk=world.tom.pk)).content.decode()
    assert "Anonymise this person" not in page and "can be anonymised after that" in page
    # Someone who has not left: nothing about anonymising at all.
    assert "Anonymise" not in client.get(url("person_detail", org, pk=world.cy.pk)).content.decode()

    target = url("person_anonymise", org, pk=world.ada.pk)
    refused = client.post(target, follow=True).content.decode()
    assert "Tick the box to confirm" in refused and _fresh(org, world.ada).anonymised_at is None
    early = client.post(url("person_anonymise", org, pk=world.tom.pk), {"confirm": "on"})
    assert early.status_code == 302 and _fresh(org, world.tom).anonymised_at is None
    done = client.post(target, {"confirm": "on"}, follow=True).content.decode()
    label = f"Former person #{world.ada.pk}"
    assert f"Anonymised: this entry is now {label}." in done
    assert "Ada Lovelace" not in done and "Analyst" not in done
    assert url("person_edit", org, pk=world.ada.pk) not in done
    assert url("person_delete", org, pk=world.ada.pk) not in done

    # The roster shows the new label and the badge, never the old name.
    roster = client.get(url("people", org)).content.decode()
    assert label in roster and "Anonymised</span>" in roster
    assert "Ada Lovelace" not in roster and "ada@example.com" not in roster
    assert "past the retention period" not in roster  # nobody else is due


def test_the_past_retention_page_lists_and_anonymises_everyone_due(
    org, manager, add, client_for, world
):
    client = client_for(manager)
    roster = client.get(url("people", org)).content.decode()
    assert "1 leaver is past the retention period" in roster
    assert url("people_anonymise_due", org) in roster
    page = url("people_anonymise_due", org)
    with CaptureQueriesContext(connection) as few:
        listed = client.get(page).content.decode()
    assert "Ada Lovelace" in listed and "Tom Later" not in listed and "Cy Current" not in listed
    for i in range(15):
        add(f"Old{i}", start_date=dt.date(2018, 1, 1), end_date=dt.date(2019, 1, 1))
    with CaptureQueriesContext(connection) as many:
        listed = client.get(page).content.decode()
    assert len(many) == len(few) and "16 people past retention" in listed

    unconfirmed = client.post(page)
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    assert Person.objects.for_org(org).filter(anonymised_at__isnull=False).count() == 0
    done = client.post(page, {"confirm": "on"}, follow=True)
    assert "16 people anonymised." in done.content.decode()
    assert done.redirect_chain[-1][0] == url("people", org)
    assert Person.objects.for_org(org).filter(anonymised_at__isnull=False).count() == 16
    assert _fresh(org, world.tom).anonymised_at is None
    assert "Nobody is past the retention period" in client.get(page).content.decode()


def test_contributors_and_auditors_cannot_and_other_organizations_are_not_found(
    org, other_org, add, manager, contributor, auditor, outsider, client_for, world
):
    pages = [
        ("post", url("person_anonymise", org, pk=world.ada.pk), {"confirm": "on"}),
        ("get", url("people_anonymise_due", org), {}),
        ("post", url("people_anonymise_due", org), {"confirm": "on"}),
    ]
    for member in (contributor, auditor):
        for method, path, data in pages:
            response = getattr(client_for(member), method)(path, data)
            assert response.status_code in (302, 403), (member.role, path)
    # Another organization's manager, on our pages and with our person on theirs: 404.
    theirs = client_for(outsider)
    for method, path, data in pages:
        assert getattr(theirs, method)(path, data).status_code == 404, path
    path = url("person_anonymise", other_org, pk=world.ada.pk)
    assert theirs.post(path, {"confirm": "on"}).status_code == 404
    assert client_for(manager).post(path, {"confirm": "on"}).status_code == 404
    assert _fresh(org, world.ada).anonymised_at is None


def test_the_api_anonymises_with_the_same_rules(
    org, manager, contributor, auditor, outsider, key_client, api_for, world
):
    for client in (
        key_client(org, "read_only"),
        key_client(org, "contributor"),
        api_for(contributor),
        api_for(auditor),
    ):
        assert client.post(api(org, world.ada)).status_code == 403
    assert api_for(outsider).post(api(org, world.ada)).status_code == 404
    assert key_client(outsider.organization).post(api(org, world.ada)).status_code == 404
    assert _fresh(org, world.ada).anonymised_at is None

    client = key_client(org, "compliance_manager")
    early = client.post(api(org, world.tom))
    assert early.status_code == 409 and early.json()["code"] == "retention_not_over"
    assert "They can be anonymised from" in early.json()["detail"]
    current = client.post(api(org, world.cy))
    assert current.status_code == 409 and current.json()["code"] == "not_a_leaver"
    assert client.post(f"/api/v1/orgs/{org.slug}/people/0/anonymise/").status_code == 404

    done = client.post(api(org, world.ada))
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["full_name"] == f"Former person #{world.ada.pk}"
    assert body["email"] == f"anonymised-{world.ada.pk}@anonymised.invalid"
    assert body["title"] == "" and body["manager"] is None and body["member"] is None
    assert body["anonymised_at"] and body["end_date"] == world.ada.end_date.isoformat()
    again = client.post(api(org, world.ada))
    assert again.status_code == 200 and again.json()["anonymised_at"] == body["anonymised_at"]
    completion = TrainingCompletion.objects.for_org(org).get(person=world.ada)
    assert completion.ip_address is None and completion.user_agent == ""
    # A changed entry is refused as before.
    patched = client.patch(f"/api/v1/orgs/{org.slug}/people/{world.ada.pk}/", {"title": "x"})
    assert patched.status_code == 400 and "anonymised" in patched.json()["detail"]


def test_their_links_no_longer_open_anything(org, manager, client, world):
    policy_link = f"/accept/{org.slug}/{world.ada.pk}-policy/"
    training_link = f"/training-link/{org.slug}/{world.ada.pk}-training/"
    assert client.get(policy_link).status_code == 410  # a leaver
    assert client.get(training_link).status_code == 410
    anonymise.person_anonymise(membership=manager, person=world.ada)
    assert client.get(policy_link).status_code == 404  # the link is gone altogether
    assert client.get(training_link).status_code == 404
    # Someone else's links still open.
    assert client.get(f"/accept/{org.slug}/{world.cy.pk}-policy/").status_code == 200


def test_managers_see_who_is_due_on_their_to_do(
    org, manager, contributor, client_for, world, django_assert_num_queries
):
    today = timezone.localdate()
    with django_assert_num_queries(1):  # one COUNT
        items = retention_todos(manager, today)
    assert [(i.kind, i.title) for i in items] == [
        ("people.anonymise", "1 person past retention can be anonymised")
    ]
    assert items[0].url == url("people_anonymise_due", org)
    assert retention_todos(contributor, today) == []
    home = client_for(manager).get(url("org_home", org)).content.decode()
    assert "1 person past retention can be anonymised" in home
    assert (
        "past retention" not in client_for(contributor).get(url("org_home", org)).content.decode()
    )
    # Tom is due the day after his retention period ends.
    later = today + dt.timedelta(days=1)
    assert retention_todos(manager, later)[0].title.startswith("2 people")
    assert world.tom.end_date == today - dt.timedelta(days=RETENTION)
