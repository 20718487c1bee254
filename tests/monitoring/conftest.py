from __future__ import annotations

import pytest

from monitoring import services
from monitoring.models import Connection, ConnectionKind
from monitoring.services import CheckSpec, ResultSpec
from tenants.models import Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.factories import ControlFactory, control_map
from tests.monitoring.github_fixtures import gh_connection, github_acme  # noqa: F401 (fixtures)
from tests.monitoring.github_server import github_fixture  # noqa: F401 (fixture github)
from tests.webhook_receiver import allow_private, receiver  # noqa: F401 (fixtures)


@pytest.fixture
def admin(org, make_member):
    return make_member(org, Role.ADMIN)


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def control(org, contributor, catalog):
    """CC6.1's control, owned by the contributor."""
    return control_map(
        ControlFactory(organization=org, owner=contributor, code="AC-01", title="Access"), "CC6.1"
    )


@pytest.fixture
def connection(org, admin) -> Connection:
    return services.connection_create(
        membership=admin, kind=ConnectionKind.CUSTOM, name="CI security tests"
    )


def push(membership, connection, *results, key="s3-encryption", severity="high", **check):
    """Push ``results`` (``(resource, status)`` pairs) for one check."""
    spec = CheckSpec(
        key=key,
        title=check.pop("title", "S3 buckets are encrypted"),
        severity=severity,
        criteria=tuple(check.pop("criteria", ("CC6.1",))),
        controls=tuple(check.pop("controls", ())),
    )
    return services.results_push(
        membership=membership,
        connection=connection,
        check=spec,
        results=[ResultSpec(resource=r, status=s) for r, s in results],
    )
