"""The CSV import: the plan names every refused row and column, nothing partial is stored,
managers resolve within the file or the roster, and it writes in a constant number of
statements whatever the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import imports
from people.models import Person
from soc2app.errors import NotPermitted
from tenants.models import ActivityEntry
from tests.people.conftest import csv_bytes

pytestmark = pytest.mark.django_db


def errors(plan) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in plan.errors]


def test_a_file_with_bad_rows_stores_nothing_and_names_each_row_and_column(org, manager, add):
    add("Boss", email="boss@example.com")
    data = csv_bytes(
        "Ada,ada@example.com,2025-01-06,Engineering,boss@example.com",  # fine
        "Bad Mail,not-an-address,2025-01-06,,",
        "Ada Again,ADA@example.com,2025-01-06,,",  # duplicate in the file
        "Orphan,orphan@example.com,2025-01-06,,nobody@example.com",  # unknown manager
        "Datey,datey@example.com,06/01/2025,,",  # not ISO
        "Self,self@example.com,2025-01-06,,self@example.com",
    )
    with pytest.raises(imports.ImportRejected) as caught:
        imports.import_apply(membership=manager, data=data)
    assert errors(caught.value.plan) == [
        (3, "email"),
        (4, "email"),
        (5, "manager_email"),
        (6, "start_date"),
        (7, "manager_email"),
    ]
    assert "is also on row 2" in caught.value.plan.errors[1].message
    assert Person.objects.for_org(org).count() == 1  # the boss only: nothing partial


def test_end_before_start_and_a_wrong_employment_type(org, manager):
    data = csv_bytes(
        "Ada,ada@example.com,2025-03-01,2025-02-01,contractor",
        "Bob,bob@example.com,2025-03-01,,freelancer",
        header="full_name,email,start_date,end_date,employment_type",
    )
    plan = imports.plan_import(org, data)
    assert errors(plan) == [(3, "employment_type"), (2, "end_date")] or errors(plan) == [
        (2, "end_date"),
        (3, "employment_type"),
    ]
    assert plan.lines == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
        ("full_name,email,start_date\nÉva,eva@example.com,2025-01-06\n".encode("latin-1"), "UTF-8"),
        (b"full_name,email,start_date\n", "no rows"),
        (b"name,mail\nAda,ada@example.com\n", "Unknown column"),
        (b"full_name,email\nAda,ada@example.com\n", "no 'start_date' column"),
    ],
)
def test_files_that_are_not_a_roster_are_refused_with_a_message(org, data, message):
    plan = imports.plan_import(org, data)
    assert not plan.ok and message in plan.errors[0].message


def test_too_many_rows_are_refused(org, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = [f"P{i},p{i}@example.com,2025-01-06,," for i in range(4)]
    plan = imports.plan_import(org, csv_bytes(*rows))
    assert not plan.ok and "import at most 3" in plan.errors[0].message


def test_a_bom_and_capitalised_headers_are_accepted_and_managers_resolve_in_the_file(
    org, manager, add
):
    add("Old Boss", email="old@example.com")
    data = "\ufeffFull_Name,Email,Start_Date,Department,Manager_Email\n".encode() + (
        b"Dev,dev@example.com,2025-02-01,Engineering,lead@example.com\n"
        b"Lead,lead@example.com,2025-01-06,Engineering,old@example.com\n"
    )
    plan = imports.import_apply(membership=manager, data=data, name="hr.csv")
    assert plan.ok and len(plan.to_create) == 2
    dev = (
        Person.objects.for_org(org).select_related("manager__manager").get(email="dev@example.com")
    )
    assert dev.manager.email == "lead@example.com"
    assert dev.manager.manager.email == "old@example.com"
    entry = ActivityEntry.objects.for_org(org).get(action="people.import")
    assert entry.changes["created"] == [None, 2] and entry.object_repr == "Roster import hr.csv"


def test_known_addresses_update_and_left_out_columns_stay(org, manager, add):
    ada = add("Ada", email="ada@example.com", title="Engineer", department="Eng")
    data = csv_bytes(
        "Ada Lovelace,ADA@example.com,2025-01-06,Research",
        "Bob,bob@example.com,2025-01-06,Research",
        header="full_name,email,start_date,department",
    )
    plan = imports.plan_import(org, data)
    assert [line.email for line in plan.to_create] == ["bob@example.com"]
    assert plan.to_update[0].changes == {
        "full_name": ["Ada", "Ada Lovelace"],
        "department": ["Eng", "Research"],
    }
    imports.import_apply(membership=manager, data=data)
    ada.refresh_from_db()
    assert (ada.full_name, ada.department, ada.title) == ("Ada Lovelace", "Research", "Engineer")
    # The same file again changes nothing.
    again = imports.plan_import(org, data)
    assert again.ok and again.unchanged == 2 and not again.to_create and not again.to_update


def test_moving_both_dates_past_each_other_holds_the_constraint(org, manager, add):
    add(
        "Ada", email="ada@example.com", start_date=dt.date(2020, 1, 1), end_date=dt.date(2020, 6, 1)
    )
    data = csv_bytes(
        "Ada,ada@example.com,2021-01-01,2021-06-01",
        header="full_name,email,start_date,end_date",
    )
    imports.import_apply(membership=manager, data=data)
    ada = Person.objects.for_org(org).get()
    assert (ada.start_date, ada.end_date) == (dt.date(2021, 1, 1), dt.date(2021, 6, 1))


def test_a_cycle_through_the_file_is_refused(org, manager, add):
    add("Boss", email="boss@example.com")
    data = csv_bytes(
        "Boss,boss@example.com,2025-01-06,,lead@example.com",
        "Lead,lead@example.com,2025-01-06,,boss@example.com",
    )
    plan = imports.plan_import(org, data)
    assert [e.column for e in plan.errors] == ["manager_email", "manager_email"]


def test_contributors_cannot_import(org, contributor):
    with pytest.raises(NotPermitted):
        imports.import_apply(membership=contributor, data=csv_bytes("A,a@example.com,2025-01-06,,"))


def _rows(n: int, *, department: str = "Dept") -> bytes:
    rows = [
        f"Person {i},p{i}@example.com,2025-01-06,{department} {i % 4},"
        + (f"p{i - 1}@example.com" if i % 10 else "")
        for i in range(n)
    ]
    return csv_bytes(*rows)


def _import_queries(manager, n: int) -> tuple[int, int]:
    """Queries of adding ``n`` people, then of changing all of them."""
    with CaptureQueriesContext(connection) as added:
        imports.import_apply(membership=manager, data=_rows(n))
    with CaptureQueriesContext(connection) as changed:
        imports.import_apply(membership=manager, data=_rows(n, department="Team"))
    return len(added), len(changed)


def test_the_import_runs_in_a_constant_number_of_queries(org, other_org, manager, make_member):
    # Within one batch (PostgreSQL: 1,000 rows; SQLite caps parameters per statement, hence
    # smaller sizes there), the statements do not grow with the rows.
    small, large = (20, 900) if connection.vendor == "postgresql" else (5, 40)
    assert _import_queries(manager, small) == _import_queries(make_member(other_org), large)
    assert Person.objects.for_org(other_org).filter(department__startswith="Team").count() == large
