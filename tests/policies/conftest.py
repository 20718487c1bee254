from __future__ import annotations

import pytest

from policies import services
from policies.library import _load
from policies.models import PolicyVersion
from tenants.models import Role
from tests.api.conftest import api_for, key_client, make_audit  # noqa: F401 (fixtures)
from tests.factories import ControlFactory

LIBRARY_ENTRY = """---
key: access-control
title: Access Control Policy
version: "1.0"
review_cadence_months: 12
criteria: [CC6.1, CC6.2]
controls: [AC-01, AC-99]
summary: Who gets access to what, and how it is reviewed.
---
# Access Control Policy

{{ organization_name }} grants access on the principle of least privilege.

1. Access is reviewed quarterly by the system owner.
"""


def approve(manager, approver, policy):
    """Send the policy's open version to ``approver`` and approve it."""
    version = PolicyVersion.objects.for_org(policy.organization).get(
        policy=policy, state__in=["draft", "in_review"]
    )
    if version.state == "draft":
        version = services.version_submit(membership=manager, version=version)
    return services.version_approve(membership=approver, version=version)


@pytest.fixture
def library(settings, tmp_path):
    """A one-entry library (the shipped one is read from policies/data/library)."""
    (tmp_path / "access-control.md").write_text(LIBRARY_ENTRY)
    settings.POLICY_LIBRARY_DIR = str(tmp_path)
    _load.cache_clear()
    yield tmp_path
    _load.cache_clear()


@pytest.fixture
def approver(org, make_member):
    return make_member(org, Role.ADMIN)


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def adopted(org, manager, approver, library):
    ControlFactory(organization=org, code="AC-01", title="Access reviews")
    policy = services.policy_adopt(membership=manager, key="access-control")
    return services.policy_settings(
        membership=manager,
        policy=policy,
        owner=manager,
        approver=approver,
        review_cadence_months=12,
    )
