"""The vendor CSV import: new vendors and updates (matched by name, any case) with the fields
they change, every bad row named by line and column with nothing stored, one activity entry,
and a constant number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from soc2app.csv_import import ImportRejected
from soc2app.errors import NotPermitted
from tenants.models import ActivityEntry
from tests.vendors.conftest import make_vendor
from vendors import imports
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

HEADER = (
    "name,service,website,owner,criticality,data_touched,access,contract_start,contract_end,"
    "subprocessor,notes"
)


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def problems(plan) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in plan.errors]


def test_new_vendors_are_added_with_every_column(org, manager):
    owner = manager.user.email.upper()  # e-mails match in any case
    data = csv_bytes(
        f"Cloudy,Hosting,cloudy.example.com,{owner},critical,customer_data; Personal data,"
        "Production,2025-01-01,2026-12-31,yes,Signed DPA",
        "Paper Ltd,,,,,,,,,no,",
    )
    plan = imports.import_apply(membership=manager, data=data, name="vendors.csv")
    assert plan.ok and len(plan.to_create) == 2
    cloudy, paper = Vendor.objects.for_org(org).order_by("name")
    assert cloudy.owner == manager and cloudy.website == "https://cloudy.example.com"
    assert cloudy.criticality == "critical" and cloudy.is_subprocessor
    assert cloudy.data_kinds == ["customer_data", "personal_data"]
    assert (cloudy.contract_start, cloudy.contract_end) == (
        dt.date(2025, 1, 1),
        dt.date(2026, 12, 31),
    )
    assert cloudy.access == "Production" and cloudy.notes == "Signed DPA"
    assert paper.criticality == "medium" and not paper.is_subprocessor and paper.owner is None
    entry = ActivityEntry.objects.for_org(org).get(action="vendors.import")
    assert entry.object_repr == "Vendor import vendors.csv"
    assert entry.changes["created"] == [None, 2] and entry.changes["file_sha256"][1] == plan.sha256
    assert sorted(entry.changes["created_ids"][1]) == sorted([cloudy.pk, paper.pk])


def test_a_known_name_in_any_case_updates_the_vendor_and_says_what_changes(org, manager):
    cloudy = make_vendor(manager, "Cloudy", service="Hosting", criticality="high", notes="Keep")
    make_vendor(manager, "Steady", service="Mail")
    data = csv_bytes(
        "CLOUDY,Hosting,,,critical,,,,,yes",  # criticality, subprocessor and the name's case
        "Steady,Mail",  # no change
        "Newco,Payroll",
        header="name,service,website,owner,criticality,data_touched,access,contract_start,"
        "contract_end,subprocessor",
    )
    plan = imports.plan_import(manager, data)
    assert plan.ok and [line.is_new for line in plan.lines] == [False, False, True]
    update = plan.to_update[0]
    assert plan.shown(update) == [
        ("name", "Cloudy", "CLOUDY"),
        ("criticality", "high", "critical"),
        ("subprocessor", "no", "yes"),
    ]
    assert plan.unchanged == 1
    imports.import_apply(membership=manager, data=data)
    cloudy.refresh_from_db()
    assert (cloudy.name, cloudy.criticality, cloudy.is_subprocessor) == ("CLOUDY", "critical", True)
    assert cloudy.notes == "Keep"  # no notes column: left as it is
    assert Vendor.objects.for_org(org).count() == 3  # not duplicated


def test_bad_rows_are_each_named_and_nothing_is_stored(org, other_org, manager, make_member):
    stranger = make_member(other_org)  # a member of another organization is unknown here
    make_vendor(manager, "Existing", contract_start=dt.date(2025, 6, 1))
    data = csv_bytes(
        "Good,Hosting",
        f"Alien,,,{stranger.user.email}",
        "Datey,,,,,,,01/02/2025",
        "Backwards,,,,,,,2025-05-01,2025-04-01",
        "Hot,,,,extreme",
        "good,Again",  # the same name as row 2, in another case
        "Kinds,,,,,gold",
        "Maybe,,,,,,,,,perhaps",
        "Web,,not a url",
        ",Nameless",
        "=cmd|' /C calc'!A0,,,,,,,2025-13-01",
        header=HEADER,
    )
    with pytest.raises(ImportRejected) as caught:
        imports.import_apply(membership=manager, data=data)
    plan = caught.value.plan
    assert problems(plan) == [
        (3, "owner"),
        (4, "contract_start"),
        (5, "contract_end"),
        (6, "criticality"),
        (7, "name"),
        (8, "data_touched"),
        (9, "subprocessor"),
        (10, "website"),
        (11, "name"),
        (12, "contract_start"),
    ]
    messages = [e.message for e in plan.errors]
    assert "No member of this organization" in messages[0] and "YYYY-MM-DD" in messages[1]
    assert "cannot end before it starts" in messages[2]
    assert "low, medium, high or critical" in messages[3] and "also on row 2" in messages[4]
    assert "Unknown kind of data: gold" in messages[5] and "yes or no" in messages[6]
    assert "'2025-13-01'" in messages[9]
    assert Vendor.objects.for_org(org).count() == 1  # only the one on record: nothing partial
    assert not ActivityEntry.objects.for_org(org).filter(action="vendors.import").exists()
    # An end date checked against the start date on record when the file gives none.
    plan = imports.plan_import(
        manager, csv_bytes("existing,2025-01-01", header="name,contract_end")
    )
    assert problems(plan) == [(2, "contract_end")]


def test_echoed_cells_are_neutralised():
    from soc2app.csv_import import echo

    assert echo("=1+1") == repr("'=1+1") and echo("a\x07b") == repr("ab")
    assert len(echo("x" * 500)) < 70


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a CSV"),
        ("name\nÉclair SA\n".encode("latin-1"), "UTF-8"),
        (b"name\n", "no rows"),
        (b"vendor,service\nA,B\n", "Unknown column 'vendor'"),
        (b"service\nHosting\n", "no 'name' column"),
        (b"name,name\nA,B\n", "appears twice"),
        (b'name,service\n"unclosed,x\n', "CSV"),
    ],
)
def test_files_that_are_not_a_vendor_list_are_refused(manager, data, message):
    plan = imports.plan_import(manager, data)
    assert not plan.ok and message in plan.errors[0].message


def test_bom_utf16_and_spaced_headers_are_read(org, manager):
    text = "Name,Data touched,Contract start\nÉclair SA,credentials,2025-02-01\n"
    assert imports.plan_import(manager, b"\xef\xbb\xbf" + text.encode()).ok
    plan = imports.import_apply(membership=manager, data=text.encode("utf-16"))
    vendor = Vendor.objects.for_org(org).get()
    assert plan.ok and vendor.name == "Éclair SA" and vendor.data_kinds == ["credentials"]
    assert vendor.contract_start == dt.date(2025, 2, 1)


def test_too_many_rows_or_bytes_are_refused(manager, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    plan = imports.plan_import(manager, csv_bytes(*[f"V{i}" for i in range(4)], header="name"))
    assert not plan.ok and "import at most 3" in plan.errors[0].message
    monkeypatch.setattr(imports, "MAX_BYTES", 1024)
    plan = imports.plan_import(manager, csv_bytes("x" * 2000, header="name"))
    assert not plan.ok and "over 1 KB" in plan.errors[0].message


def test_the_vendor_cap_counts_the_new_rows(org, manager, monkeypatch):
    from vendors import services

    make_vendor(manager, "One")
    monkeypatch.setattr(services, "MAX_VENDORS", 2)
    assert imports.plan_import(manager, csv_bytes("One", "Two", header="name")).ok
    plan = imports.plan_import(manager, csv_bytes("Two", "Three", header="name"))
    assert not plan.ok and "at most 2 vendors" in plan.errors[0].message


def test_only_managers_import(org, contributor, auditor):
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            imports.import_apply(membership=member, data=csv_bytes("A", header="name"))
        with pytest.raises(NotPermitted):
            imports.plan_import(member, csv_bytes("A", header="name"))
    assert not Vendor.objects.for_org(org).exists()


def test_an_auditor_cannot_be_named_owner(org, manager, auditor):
    plan = imports.plan_import(manager, csv_bytes(f"A,{auditor.user.email}", header="name,owner"))
    assert problems(plan) == [(2, "owner")]


def _rows(n: int, owner: str, service: str = "Hosting") -> bytes:
    rows = [f"Vendor {i:05},{service},{owner},high,2025-01-01" for i in range(n)]
    return csv_bytes(*rows, header="name,service,owner,criticality,contract_start")


def _import_queries(member, n: int) -> tuple[int, int]:
    """Queries of adding ``n`` vendors, then of changing all of them."""
    owner = member.user.email
    with CaptureQueriesContext(connection) as added:
        imports.import_apply(membership=member, data=_rows(n, owner))
    with CaptureQueriesContext(connection) as changed:
        imports.import_apply(membership=member, data=_rows(n, owner, service="Mail"))
    return len(added), len(changed)


def test_the_import_runs_in_a_constant_number_of_queries(org, other_org, manager, make_member):
    # PostgreSQL: 1,000 rows in one batch. SQLite caps the parameters of a statement (Django
    # splits the batches there), hence smaller sizes.
    small, large = (10, 1000) if connection.vendor == "postgresql" else (5, 30)
    assert _import_queries(manager, small) == _import_queries(make_member(other_org), large)
    assert Vendor.objects.for_org(other_org).filter(service="Mail").count() == large
    assert Vendor.objects.for_org(org).count() == small
