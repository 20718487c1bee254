"""The person form's manager: named by e-mail with suggestions as you type (as in the assign
forms), never picked from a list of the whole roster. An unknown e-mail, the person's own and
another organization's are refused with a clear message beside the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import services
from people.anonymise import person_anonymise
from people.models import Person
from tests.people.conftest import START

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _form(**values: str) -> dict[str, str]:
    return {
        "full_name": "Ada",
        "email": "ada@example.com",
        "employment_type": "employee",
        "start_date": "2025-01-06",
        **values,
    }


def _field_error(html: str) -> str:
    """The error shown beside the manager's field ('' when none)."""
    marker = 'id="id_manager_email_error">'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</p>", 1)[0]


def test_a_manager_is_named_by_e_mail_whatever_its_case(org, add, manager, client_for):
    boss = add("Boss")
    client = client_for(manager)
    response = client.post(url("person_new", org), _form(manager_email=" BOSS@Example.com "))
    ada = Person.objects.for_org(org).get(email="ada@example.com")
    assert response.status_code == 302 and ada.manager == boss
    # The edit page shows the manager's e-mail; saving it unchanged keeps them.
    page = client.get(url("person_edit", org, pk=ada.pk)).content.decode()
    assert 'value="boss@example.com"' in page
    client.post(url("person_edit", org, pk=ada.pk), _form(manager_email="boss@example.com"))
    ada.refresh_from_db()
    assert ada.manager == boss
    # Left empty: no manager any more.
    client.post(url("person_edit", org, pk=ada.pk), _form(manager_email=""))
    ada.refresh_from_db()
    assert ada.manager is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nobody@example.com", "Nobody in your people list has the e-mail nobody@example.com."),
        ("not an e-mail", "Enter a valid email address."),
    ],
)
def test_an_unknown_or_malformed_e_mail_is_refused_beside_the_field(
    org, add, manager, client_for, typed, message
):
    add("Boss")
    response = client_for(manager).post(url("person_new", org), _form(manager_email=typed))
    assert response.status_code == 400
    assert _field_error(response.content.decode()) == message
    assert not Person.objects.for_org(org).filter(email="ada@example.com").exists()


def test_a_person_cannot_be_their_own_manager(org, add, manager, client_for):
    boss = add("Boss")
    ada = add("Ada", manager=boss)
    response = client_for(manager).post(
        url("person_edit", org, pk=ada.pk), _form(manager_email="ADA@example.com")
    )
    assert response.status_code == 400
    assert _field_error(response.content.decode()) == "A person cannot be their own manager."
    ada.refresh_from_db()
    assert ada.manager == boss


def test_a_reporting_cycle_is_refused_beside_the_field(org, add, manager, client_for):
    boss = add("Boss")
    add("Ada", manager=boss)
    response = client_for(manager).post(
        url("person_edit", org, pk=boss.pk),
        _form(full_name="Boss", email="boss@example.com", manager_email="ada@example.com"),
    )
    assert response.status_code == 400
    assert "reports to Boss" in _field_error(response.content.decode())


def test_another_organizations_person_never_resolves(
    org, other_org, add, manager, outsider, client_for
):
    services.person_create(
        membership=outsider, full_name="Zed", email="zed@example.com", start_date=START
    )
    client = client_for(manager)
    response = client.post(url("person_new", org), _form(manager_email="ZED@example.com"))
    assert response.status_code == 400
    assert _field_error(response.content.decode()).startswith("Nobody in your people list")
    assert not Person.objects.for_org(org).exists()
    suggested = client.get(url("people_suggest", org), {"manager_email": "ze"})
    assert suggested.status_code == 200 and b"zed@example.com" not in suggested.content


def test_a_manager_whose_entry_was_anonymised_is_kept_on_save(org, add, manager, client_for):
    today = timezone.localdate()
    boss = add("Boss", start_date=today - dt.timedelta(days=5000))
    ada = add("Ada", manager=boss)
    services.person_end(membership=manager, person=boss, end_date=today - dt.timedelta(days=4000))
    boss = person_anonymise(membership=manager, person=boss)
    client = client_for(manager)
    page = client.get(url("person_edit", org, pk=ada.pk)).content.decode()
    assert f'value="{boss.email}"' in page
    response = client.post(url("person_edit", org, pk=ada.pk), _form(manager_email=boss.email))
    ada.refresh_from_db()
    assert response.status_code == 302 and ada.manager_id == boss.pk
    # Nobody can newly choose an anonymised entry, though.
    response = client.post(
        url("person_new", org), _form(email="bo@example.com", manager_email=boss.email)
    )
    assert response.status_code == 400


def test_the_form_lists_no_roster_and_suggests_as_you_type(
    org, add, manager, client_for, django_assert_num_queries
):
    add("Boss")
    client = client_for(manager)

    def page() -> str:
        return client.get(url("person_new", org)).content.decode()

    html = page()
    assert "boss@example.com" not in html  # no <option> per person
    assert 'list="people-suggestions"' in html and '<datalist id="people-suggestions">' in html
    assert f'hx-get="{url("people_suggest", org)}"' in html
    # The page's queries do not grow with the roster.
    with CaptureQueriesContext(connection) as few:
        page()
    for i in range(30):
        add(f"Extra{i}")
    with django_assert_num_queries(len(few.captured_queries)):
        page()
    found = client.get(url("people_suggest", org), {"manager_email": "bo"}).content.decode()
    assert "boss@example.com" in found and "extra" not in found


def test_suggestions_are_for_roster_managers_only(org, add, contributor, auditor, client_for):
    add("Boss")
    for member in (contributor, auditor):
        response = client_for(member).get(url("people_suggest", org), {"manager_email": "bo"})
        assert response.status_code in (302, 403) and b"boss@example.com" not in response.content
