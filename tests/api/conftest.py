"""Fixtures of the organization API tests: JSON clients per persona, URLs, an audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from controls.models import Audit, AuditCategory, AuditType
from criteria.models import Category
from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tenants.models import Membership, Organization, Role


def org_url(org: Organization, path: str = "") -> str:
    return f"/api/v1/orgs/{org.slug}/{path}"


@pytest.fixture
def api_for() -> Callable[[Membership], APIClient]:
    """A signed-in client that sends JSON bodies."""

    def make(membership: Membership) -> APIClient:
        client = APIClient()
        client.default_format = "json"
        client.force_login(membership.user)
        return client

    return make


@dataclass
class FakeKey:
    """A stand-in for an API key principal (the interface the tenancy base relies on)."""

    organization: Organization
    role: str
    is_active: bool = True
    pk: int = 900_001
    user: None = None
    label: str = "API key test (sk_test…)"
    is_api_key: bool = True
    organization_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.organization_id = self.organization.pk


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """A client authenticated as ``FakeKey(org, role)`` (no session, no user)."""

    def make(org: Organization, role: str = Role.COMPLIANCE_MANAGER, **kwargs) -> APIClient:
        client = APIClient()
        client.default_format = "json"
        client.force_authenticate(user=None, token=FakeKey(org, role, **kwargs))
        return client

    return make


@pytest.fixture
def contributor(org, make_member) -> Membership:
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member) -> Membership:
    return make_member(org, Role.AUDITOR)


@pytest.fixture
def key_for(catalog) -> Callable[[Organization, str], APIClient]:
    """A client that authenticates with a new API key of ``role`` (as curl: no session, and
    CSRF enforced, so a key never needs a CSRF token)."""
    counter = iter(range(1, 1000))

    def make(org: Organization, role: str) -> APIClient:
        _, plaintext = api_key_create_system(
            organization=org,
            name=f"test-key-{next(counter)}",
            role=role,
            expires_days=None,
            actor=Actor.system("test"),
        )
        client = APIClient(enforce_csrf_checks=True)
        client.default_format = "json"
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client

    return make


@pytest.fixture
def api(catalog, manager, api_for) -> APIClient:
    return api_for(manager)


@pytest.fixture
def make_audit(catalog) -> Callable[..., Audit]:
    """An audit written directly: ``as_of`` for Type 1 or ``window=(start, end)`` for Type 2."""
    counter = iter(range(1, 1000))

    def make(
        org: Organization,
        *,
        as_of: dt.date | None = None,
        window: tuple[dt.date, dt.date] | None = None,
        categories: tuple[str, ...] = (),
    ) -> Audit:
        audit = Audit(
            organization=org,
            framework=catalog,
            name=f"Audit {next(counter)}",
            audit_type=AuditType.TYPE2 if window else AuditType.TYPE1,
            as_of_date=as_of,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            status="readiness",
        )
        audit.save()
        for category in Category.objects.filter(framework=catalog):
            if category.always_in_scope or category.key in categories:
                AuditCategory(organization=org, audit=audit, category=category).save()
        return audit

    return make
