"""Naming one person in the assign forms (policies and training): by e-mail, with
suggestions as you type; the page never lists the whole roster."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies.models import PolicyAssignment
from tests.policies.test_acceptance import person

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_a_manager_assigns_one_person_by_e_mail_whatever_its_case(
    org, manager, adopted, client_for
):
    ana = person(org, "Ana")
    client = client_for(manager)
    response = client.post(
        url("policy_assign", org, pk=adopted.pk),
        {"target": "person", "person_email": " ANA@Example.com "},
        follow=True,
    )
    assert response.status_code == 200
    made = PolicyAssignment.objects.for_org(org).get(policy=adopted)
    assert made.target == "person" and made.person_id == ana.pk


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"target": "person", "person_email": "nobody@example.com"}, "Nobody in your people"),
        ({"target": "person", "person_email": ""}, "Enter the person&#x27;s e-mail"),
        ({"target": "person", "person_email": "not an e-mail"}, "valid email"),
        ({"target": "department", "department": ""}, "Choose a department"),
    ],
)
def test_a_wrong_person_or_department_is_refused_with_its_reason(
    org, manager, adopted, client_for, posted, message
):
    person(org, "Ana")
    response = client_for(manager).post(
        url("policy_assign", org, pk=adopted.pk), posted, follow=True
    )
    assert message in response.content.decode()
    assert not PolicyAssignment.objects.for_org(org).exists()


def test_another_organizations_person_cannot_be_named(org, other_org, manager, adopted, client_for):
    person(other_org, "Zed")
    response = client_for(manager).post(
        url("policy_assign", org, pk=adopted.pk),
        {"target": "person", "person_email": "zed@example.com"},
        follow=True,
    )
    assert "Nobody in your people list" in response.content.decode()
    assert not PolicyAssignment.objects.for_org(org).exists()


def test_the_page_lists_no_roster_and_suggestions_match_names_and_e_mails(
    org, other_org, manager, adopted, client_for, django_assert_max_num_queries
):
    for name in ("Ana", "Anton", "Bob", "Maria Anders"):
        person(org, name)
    person(other_org, "Anabel")
    client = client_for(manager)
    page = client.get(url("policy_acceptance", org, pk=adopted.pk)).content.decode()
    assert "bob@example.com" not in page  # no <option> per person
    assert 'list="people-suggestions"' in page
    with django_assert_max_num_queries(12):
        found = client.get(url("people_suggest", org), {"person_email": "an"}).content.decode()
    assert "ana@example.com" in found and "anton@example.com" in found
    assert "maria anders@example.com" in found  # a word of the name
    assert "bob@example.com" not in found and "anabel" not in found.lower()
    assert client.get(url("people_suggest", org), {"person_email": "a"}).content.strip() == b""


def test_suggestions_are_for_managers_only(org, adopted, contributor, client_for):
    person(org, "Ana")
    response = client_for(contributor).get(url("people_suggest", org), {"q": "an"})
    assert response.status_code in (403, 404)
    assert b"ana@example.com" not in response.content
