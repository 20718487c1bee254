from __future__ import annotations

import datetime as dt

import pytest

from risks import services
from tenants.models import Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.factories import ControlFactory

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member):
    return make_member(org, Role.AUDITOR)


@pytest.fixture
def control(org):
    return ControlFactory(organization=org, code="IAM-03", title="Multi-factor authentication")


@pytest.fixture
def add(manager):
    """Add a risk as the manager: ``add("Title", inherent_likelihood=4, ...)``."""

    def make(title: str = "Account takeover", *, membership=None, **values):
        values.setdefault("category", "security")
        values.setdefault("inherent_likelihood", 4)
        values.setdefault("inherent_impact", 4)
        values.setdefault("today", TODAY)
        return services.risk_create(membership=membership or manager, title=title, **values)

    return make
