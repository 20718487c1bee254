"""The digest tells "no SOC 2 report" of a critical vendor once, however often the vendor is
then edited (form or import); it tells it again only when the fact starts again (the vendor
stopped being critical, then became critical again), and not while it is not critical."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from evidence.freshness import freshness_check
from tests.vendors.conftest import add_doc, make_vendor
from vendors import imports, services

pytestmark = pytest.mark.django_db

DAY0 = timezone.localdate()
TOLD = "Critical Co (critical): no SOC 2 report"


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """Whether the daily pass of ``today`` tells the manager that Critical Co has no report."""

    def go(today: dt.date) -> bool:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            freshness_check(today=today)
        return any(TOLD in m.body for m in mail.outbox)

    return go


def _import(manager, row: str, header: str) -> None:
    imports.import_apply(membership=manager, data=f"{header}\n{row}\n".encode())


def test_told_once_however_often_the_vendor_is_edited(org, manager, told):
    vendor = make_vendor(manager, "Critical Co", criticality="critical", owner=manager)
    assert told(DAY0)
    services.vendor_update(membership=manager, vendor=vendor, notes="Asked for the report")
    assert not told(day(1))
    services.vendor_update(membership=manager, vendor=vendor, service="Payments")
    _import(manager, "Critical Co,Payments and payouts", header="name,service")
    _import(manager, "Critical Co,critical", header="name,criticality")  # no change
    assert not told(day(2))


def test_told_again_when_it_becomes_critical_again(org, manager, told):
    vendor = make_vendor(manager, "Critical Co", criticality="critical", owner=manager)
    assert told(DAY0)
    services.vendor_update(membership=manager, vendor=vendor, criticality="high")
    assert not told(day(1))  # not critical: nothing missing
    services.vendor_update(membership=manager, vendor=vendor, criticality="critical")
    assert told(day(2))
    assert not told(day(3))
    _import(manager, "Critical Co,medium", header="name,criticality")
    assert not told(day(4))
    _import(manager, "Critical Co,critical", header="name,criticality")
    assert told(day(5))
    # A report ends it, whatever happens next.
    add_doc(manager, vendor, "soc2_report", period_end=DAY0)
    services.vendor_update(membership=manager, vendor=vendor, criticality="high")
    services.vendor_update(membership=manager, vendor=vendor, criticality="critical")
    assert not told(day(6))
