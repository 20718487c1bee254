from __future__ import annotations

import datetime as dt

import pytest

from people import services
from tenants.models import Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.reports.conftest import make_audit, sampling_world  # noqa: F401 (fixtures)

START = dt.date(2025, 1, 6)


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member):
    return make_member(org, Role.AUDITOR)


@pytest.fixture
def add(manager):
    """Add a person to the manager's organization: ``add("Ada")`` -> ada@example.com."""

    def make(name: str, *, membership=None, **values):
        values.setdefault("email", f"{name.split()[0].lower()}@example.com")
        values.setdefault("start_date", START)
        return services.person_create(membership=membership or manager, full_name=name, **values)

    return make


def csv_bytes(
    *rows: str, header: str = "full_name,email,start_date,department,manager_email"
) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()
