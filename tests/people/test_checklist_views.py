"""Checklist pages: the Joiners & leavers list (managers, filters, constant queries), the
template page, the person page's checklists with htmx "mark done", a contributor's own
items (and nobody else's), reopening, the home's to-do, and 404 across organizations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import services
from people.models_checklists import Checklist, ChecklistItem, ChecklistTemplateItem
from tenants.models import Role
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HTMX = {"HX-Request": "true"}


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def leaver(org, manager, contributor, add):
    """A leaver (last day ten days ago: every item overdue) whose "Accounts revoked" the contributor owns."""
    ControlFactory(organization=org, owner=contributor, code="IAM-05", frequency="monthly")
    person = add("Bob Builder", start_date=dt.date(2024, 1, 8))
    services.person_end(membership=manager, person=person, end_date=TODAY - dt.timedelta(days=10))
    return person


def item(org, title: str) -> ChecklistItem:
    return ChecklistItem.objects.for_org(org).select_related("checklist").get(title=title)


def test_the_list_is_for_managers_with_filters_in_constant_queries(
    org, manager, contributor, auditor, add, client_for, leaver
):
    for member in (contributor, auditor):
        client = client_for(member)
        for path in (
            url("checklists", org),
            url("checklist_template", org, kind="onboarding"),
        ):
            assert client.get(path).status_code in (302, 403), (member.role, path)
    client = client_for(manager)
    page = client.get(url("checklists", org))
    html = page.content.decode()
    assert page.status_code == 200 and "Bob Builder" in html and "late" in html
    assert url("checklists", org) in html  # the nav link
    assert (
        "Bob Builder"
        not in client.get(url("checklists", org) + "?kind=onboarding").content.decode()
    )
    counts = []
    for n in (3, 12):
        for i in range(n):
            add(f"J{n}x{i} Joiner", start_date=TODAY + dt.timedelta(days=i))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("checklists", org) + "?late=on").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    all_rows = client.get(url("checklists", org) + "?state=all").content.decode()
    assert "J12x11 Joiner" in all_rows


def test_the_person_page_lists_items_and_marks_one_done_with_htmx(org, manager, client_for, leaver):
    client = client_for(manager)
    page = client.get(url("person_detail", org, pk=leaver.pk)).content.decode()
    assert "Accounts revoked" in page and "Offboarding" in page and "Overdue" in page
    equipment = item(org, "Company equipment returned")
    answer = client.post(
        url("checklist_item_done", org, pk=equipment.pk),
        {"done_on": TODAY.isoformat(), "note": "Laptop back"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "Laptop back" in answer.content.decode() and "Reopen" in answer.content.decode()
    equipment.refresh_from_db()
    assert equipment.done_on == TODAY
    # A refusal comes back in the row (htmx swaps 200 answers), nothing stored.
    revoke = item(org, "Accounts revoked")
    refused = client.post(
        url("checklist_item_done", org, pk=revoke.pk), {"done_on": TODAY.isoformat()}, headers=HTMX
    )
    assert refused.status_code == 200 and "requires evidence" in refused.content.decode()
    revoke.refresh_from_db()
    assert revoke.done_on is None
    future = client.post(
        url("checklist_item_done", org, pk=equipment.pk),
        {"done_on": (TODAY + dt.timedelta(days=2)).isoformat()},
    )
    assert future.status_code == 302  # without htmx: back to the person, with the message
    reopened = client.post(url("checklist_item_reopen", org, pk=equipment.pk), headers=HTMX)
    assert reopened.status_code == 200 and "Mark done" in reopened.content.decode()
    equipment.refresh_from_db()
    assert equipment.done_on is None


def test_a_contributor_completes_their_items_only(
    org, manager, contributor, make_member, client_for, leaver
):
    mine = client_for(contributor)
    page = mine.get(url("checklist_mine", org)).content.decode()
    assert "Accounts revoked" in page and "Company equipment returned" not in page
    assert url("checklist_mine", org) in mine.get(url("org_home", org)).content.decode()
    revoke = item(org, "Accounts revoked")
    equipment = item(org, "Company equipment returned")  # nobody's: not theirs
    from django.core.files.uploadedfile import SimpleUploadedFile

    done = mine.post(
        url("checklist_item_done", org, pk=revoke.pk),
        {"done_on": TODAY.isoformat(), "evidence_file": SimpleUploadedFile("a.txt", b"gone\n")},
        headers=HTMX,
    )
    assert done.status_code == 200 and "Done late" in done.content.decode()
    assert (
        mine.post(
            url("checklist_item_done", org, pk=equipment.pk), {"done_on": TODAY.isoformat()}
        ).status_code
        == 404
    )
    assert mine.post(url("checklist_item_reopen", org, pk=revoke.pk)).status_code == 403
    auditor = client_for(make_member(org, Role.AUDITOR))
    assert auditor.post(
        url("checklist_item_done", org, pk=equipment.pk), {"done_on": TODAY.isoformat()}
    ).status_code in (302, 403)
    equipment.refresh_from_db()
    assert equipment.done_on is None


def test_another_organizations_checklists_are_not_found(
    org, other_org, outsider, manager, client_for, leaver
):
    theirs = services.person_create(
        membership=outsider,
        full_name="Theirs",
        email="t@example.com",
        start_date=TODAY + dt.timedelta(days=3),
    )
    their_item = ChecklistItem.objects.for_org(other_org).filter(checklist__person=theirs).first()
    client = client_for(manager)
    for path in (
        url("checklist_item_done", org, pk=their_item.pk),
        url("checklist_item_reopen", org, pk=their_item.pk),
        url("checklist_item_done", org, pk="99999999999999999999999"),
    ):
        assert client.post(path, {"done_on": TODAY.isoformat()}).status_code == 404
    assert "Theirs" not in client.get(url("checklists", org) + "?state=all").content.decode()
    assert client.get(url("checklist_template", org, kind="nope")).status_code == 404
    their_item.refresh_from_db()
    assert their_item.done_on is None


def test_the_template_page_edits_reorders_and_removes_items(org, manager, client_for):
    client = client_for(manager)
    page = client.get(url("checklist_template", org, kind="offboarding"))
    assert page.status_code == 200 and "Accounts revoked" in page.content.decode()
    rows = list(ChecklistTemplateItem.objects.for_org(org).order_by("position"))
    data = {
        "items-TOTAL_FORMS": str(len(rows) + 1),
        "items-INITIAL_FORMS": str(len(rows)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "40",
    }
    for n, row in enumerate(rows):
        data |= {
            f"items-{n}-title": row.title,
            f"items-{n}-due_days": str(row.due_days),
            f"items-{n}-ORDER": str(len(rows) - n),  # reversed
            f"items-{n}-owner": "",
            f"items-{n}-control": "",
        }
        if row.business_days:
            data[f"items-{n}-business_days"] = "on"
    data[f"items-{len(rows) - 1}-DELETE"] = "on"
    data |= {
        f"items-{len(rows)}-title": "Badge returned",
        f"items-{len(rows)}-due_days": "0",
        f"items-{len(rows)}-ORDER": "99",
    }
    saved = client.post(url("checklist_template", org, kind="offboarding"), data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    titles = list(
        ChecklistTemplateItem.objects.for_org(org)
        .order_by("position")
        .values_list("title", flat=True)
    )
    assert titles == [r.title for r in reversed(rows[:-1])] + ["Badge returned"]
    bad = client.post(
        url("checklist_template", org, kind="offboarding"),
        data | {"items-0-due_days": "500"},
    )
    assert bad.status_code == 400


def test_the_home_lists_a_contributors_items_in_constant_queries(
    org, manager, contributor, client_for, add, catalog
):
    ControlFactory(organization=org, owner=contributor, code="IAM-05")
    client = client_for(contributor)
    home = url("org_home", org)
    client.get(home)
    counts = []
    for n in (2, 8):
        for i in range(n):
            person = add(f"L{n}x{i} Leaver", start_date=dt.date(2024, 1, 8))
            services.person_end(membership=manager, person=person, end_date=TODAY)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(home)
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    assert "Accounts revoked: L2x0 Leaver" in page.content.decode()
    assert Checklist.objects.for_org(org).count() == 10
