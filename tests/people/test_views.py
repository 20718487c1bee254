"""The roster pages: managers only, 404 across organizations, the list's filters in a
constant number of queries, the form, ending, deleting, and the import with its preview."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people import services
from people.models import Person
from tenants.models import Role
from tests.people.conftest import START, csv_bytes

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _pages(org, person) -> list[tuple[str, str]]:
    """Every roster page, as (method, url)."""
    return [
        ("get", url("people", org)),
        ("get", url("person_new", org)),
        ("get", url("people_import", org)),
        ("get", url("people_import_example", org)),
        ("post", url("people_import_confirm", org)),
        ("get", url("person_detail", org, pk=person.pk)),
        ("get", url("person_edit", org, pk=person.pk)),
        ("post", url("person_end", org, pk=person.pk)),
        ("post", url("person_delete", org, pk=person.pk)),
    ]


def test_every_page_is_refused_to_contributors_and_auditors(
    org, add, contributor, auditor, client_for
):
    ada = add("Ada")
    for member in (contributor, auditor):
        client = client_for(member)
        for method, path in _pages(org, ada):
            assert getattr(client, method)(path).status_code in (302, 403), (member.role, path)
        page = client.get(url("org_home", org))
        assert url("people", org) not in page.content.decode()
    assert Person.objects.for_org(org).filter(end_date__isnull=True).count() == 1


def test_another_organizations_person_is_not_found_on_every_page(
    org, other_org, add, outsider, manager, client_for
):
    theirs = services.person_create(
        membership=outsider, full_name="Theirs", email="t@example.com", start_date=START
    )
    client = client_for(manager)
    for method, path in _pages(org, theirs)[5:]:
        assert getattr(client, method)(path).status_code == 404, path
    # And their organization's pages for a manager of ours: 404 as well.
    for method, path in _pages(other_org, theirs):
        assert getattr(client, method)(path).status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.end_date is None


def test_the_roster_filters_and_lists_in_a_constant_number_of_queries(
    org, add, manager, client_for
):
    client = client_for(manager)
    boss = add("Boss", department="Engineering")
    add("Ada Joiner", department="Engineering", manager=boss, start_date=dt.date(2025, 5, 2))
    leaver = add("Leo Leaver", department="Sales", employment_type="contractor")
    services.person_end(membership=manager, person=leaver, end_date=dt.date(2025, 5, 20))
    assert "Ada Joiner" in client.get(url("people", org) + "?q=JOINER").content.decode()
    page = client.get(
        url("people", org) + "?state=joiners&date_from=2025-05-01&date_to=2025-05-31"
    ).content.decode()
    assert "Ada Joiner" in page and "boss@example.com" not in page
    page = client.get(url("people", org) + "?state=leavers&employment_type=contractor")
    assert "Leo Leaver" in page.content.decode() and "Ada Joiner" not in page.content.decode()
    page = client.get(url("people", org) + "?department=Sales&state=active").content.decode()
    assert "Leo Leaver" not in page  # left already
    with CaptureQueriesContext(connection) as few:
        client.get(url("people", org))
    for i in range(30):
        add(f"Extra {i}", email=f"x{i}@example.com", manager=boss, department=f"D{i % 3}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("people", org)).status_code == 200
    assert len(many) == len(few)


def test_add_edit_end_and_delete_in_the_browser(org, add, manager, client_for):
    client = client_for(manager)
    boss = add("Boss")
    response = client.post(
        url("person_new", org),
        {
            "full_name": "Ada",
            "email": "ADA@example.com",
            "employment_type": "employee",
            "start_date": "2025-01-06",
            "manager_email": "boss@example.com",
            "member": manager.pk,
        },
    )
    ada = Person.objects.for_org(org).get(email="ada@example.com")
    assert response.status_code == 302 and ada.manager == boss and ada.membership == manager
    duplicate = client.post(
        url("person_new", org),
        {
            "full_name": "Ada 2",
            "email": "ada@example.com",
            "employment_type": "employee",
            "start_date": "2025-01-06",
        },
    )
    assert duplicate.status_code == 400 and "on the roster already" in duplicate.content.decode()
    edited = client.post(
        url("person_edit", org, pk=boss.pk),
        {
            "full_name": "Boss",
            "email": "boss@example.com",
            "employment_type": "employee",
            "start_date": "2025-01-06",
            "manager_email": "ada@example.com",
        },
    )
    assert edited.status_code == 400 and "reports to Boss" in edited.content.decode()
    client.post(url("person_end", org, pk=ada.pk), {"end_date": "2024-01-01"})
    ada.refresh_from_db()
    assert ada.end_date is None
    client.post(url("person_end", org, pk=ada.pk), {"end_date": "2025-06-30"})
    ada.refresh_from_db()
    assert ada.end_date == dt.date(2025, 6, 30)
    page = client.get(url("person_detail", org, pk=ada.pk)).content.decode()
    assert "Left" in page and "Boss" in page
    client.post(url("person_delete", org, pk=boss.pk))  # Ada reports to Boss: refused
    assert Person.objects.for_org(org).filter(pk=boss.pk).exists()
    client.post(url("person_delete", org, pk=ada.pk))
    assert not Person.objects.for_org(org).filter(pk=ada.pk).exists()


def _upload(client, org, data: bytes, name: str = "roster.csv"):
    return client.post(
        url("people_import", org), {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def test_the_import_previews_then_imports_on_confirm(org, manager, add, client_for):
    client = client_for(manager)
    add("Boss", email="boss@example.com", department="Eng")
    data = csv_bytes(
        "Ada,ada@example.com,2025-01-06,Eng,boss@example.com",
        "Boss,boss@example.com,2025-01-06,Leadership,",
    )
    preview = _upload(client, org, data)
    html = preview.content.decode()
    assert preview.status_code == 200 and "To add (1)" in html and "To update (1)" in html
    assert "Eng → Leadership" in html
    assert Person.objects.for_org(org).count() == 1  # nothing yet
    token = preview.context["token"]
    sha = preview.context["plan"].sha256
    # Tampered or foreign tokens name nothing.
    bad = client.post(url("people_import_confirm", org), {"token": token, "sha256": "0" * 64})
    assert bad.status_code == 302 and Person.objects.for_org(org).count() == 1
    done = client.post(url("people_import_confirm", org), {"token": token, "sha256": sha})
    assert done.status_code == 302 and done["Location"].endswith("/people/")
    assert Person.objects.for_org(org).count() == 2
    # Used once.
    client.post(url("people_import_confirm", org), {"token": token, "sha256": sha})
    assert Person.objects.for_org(org).get(email="boss@example.com").department == "Leadership"


def test_a_preview_token_works_only_for_its_organization_and_user(
    org, other_org, manager, make_member, client_for
):
    preview = _upload(client_for(manager), org, csv_bytes("Ada,ada@example.com,2025-01-06,,"))
    form = {"token": preview.context["token"], "sha256": preview.context["plan"].sha256}
    colleague = make_member(org, Role.ADMIN)
    client_for(colleague).post(url("people_import_confirm", org), form)
    theirs = make_member(other_org, Role.OWNER)
    client_for(theirs).post(url("people_import_confirm", other_org), form)
    assert not Person.objects.for_org(org).exists()
    assert not Person.objects.for_org(other_org).exists()


def test_a_bad_file_shows_every_problem_and_offers_no_import(org, manager, client_for):
    data = csv_bytes("Ada,nope,2025-13-01,,", "Bob,bob@example.com,2025-01-06,,ghost@example.com")
    response = _upload(client_for(manager), org, data)
    html = response.content.decode()
    assert response.status_code == 400 and response.context["token"] is None
    assert html.count('class="import-error"') == 3
    assert "ghost@example.com is neither in the file nor on the roster" in html
    binary = _upload(client_for(manager), org, b"\x00\x01\x02", name="photo.png")
    assert binary.status_code == 400 and "binary" in binary.content.decode()
