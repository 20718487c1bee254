from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from controls.periods import add_months
from tenants.models import Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from vendors import services
from vendors.models import Vendor, VendorDocument

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def months_ago(months: int, today: dt.date | None = None) -> dt.date:
    return add_months(today or timezone.localdate(), -months)


def pdf(name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def make_vendor(manager, name: str = "Cloudy", **values) -> Vendor:
    return services.vendor_create(membership=manager, name=name, **values)


def add_doc(manager, vendor, kind: str, **values) -> VendorDocument:
    return services.document_add(
        membership=manager, vendor=vendor, kind=kind, upload=pdf(f"{kind}.pdf"), **values
    )


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member):
    return make_member(org, Role.AUDITOR)
