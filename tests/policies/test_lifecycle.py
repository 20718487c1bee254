"""A policy's life: adopted from the library as a draft, edited, sent to its named approver,
approved (then immutable, with its SHA-256 and a review date), and the next version."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.periods import add_months
from policies import selectors, services
from policies.models import Policy, PolicyVersion, VersionState
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from tenants.activity import ActivityEntry
from tenants.models import Role
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db


def test_adopting_makes_a_draft_linked_to_the_organization_s_controls(org, adopted):
    version = PolicyVersion.objects.for_org(org).get(policy=adopted)
    assert version.number == 1 and version.state == VersionState.DRAFT
    assert "{{ organization_name }}" in version.body  # substituted when shown, not stored
    assert adopted.criteria == ["CC6.1", "CC6.2"]
    # AC-99 is not one of the organization's controls: only AC-01 is linked.
    assert [c.code for c in selectors.policy_controls(adopted)] == ["AC-01"]
    with pytest.raises(Conflict):
        services.policy_adopt(membership=adopted.owner, key="access-control")


def test_approval_fixes_the_text_with_its_hash_and_schedules_the_review(
    org, manager, approver, adopted
):
    version = approve(manager, approver, adopted)
    assert version.state == VersionState.APPROVED
    assert version.sha256 == hashlib.sha256(version.body.encode()).hexdigest()
    assert version.approved_by_label == approver.user.email
    adopted.refresh_from_db()
    assert adopted.next_review_date == add_months(timezone.localdate(), 12)
    version.body = "changed"
    with pytest.raises(ValueError, match="immutable"):
        version.save()
    actions = set(ActivityEntry.objects.for_org(org).values_list("action", flat=True))
    assert {"create", "submit", "approve"} <= actions


@pytest.mark.postgres
def test_the_database_refuses_to_change_an_approved_version(org, manager, approver, adopted):
    version = approve(manager, approver, adopted)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        PolicyVersion.objects.for_org(org).filter(pk=version.pk).update(body="rewritten")


def test_only_the_named_approver_approves_and_never_their_own_text(
    org, manager, approver, adopted, make_member
):
    version = PolicyVersion.objects.for_org(org).get(policy=adopted)
    version = services.version_submit(membership=manager, version=version)
    other_admin = make_member(org, Role.ADMIN)
    with pytest.raises(NotPermitted):
        services.version_approve(membership=other_admin, version=version)
    with pytest.raises(NotPermitted):
        services.version_approve(membership=manager, version=version)
    # The approver returns it; a manager edits; the approver edits nothing and approves.
    version = services.version_return(membership=approver, version=version, note="Name the owner")
    assert version.state == VersionState.DRAFT and version.return_note == "Name the owner"
    # An approver who wrote the text cannot approve it.
    services.policy_settings(
        membership=manager, policy=adopted, owner=None, approver=manager, review_cadence_months=12
    )
    version = services.version_submit(membership=manager, version=version)
    with pytest.raises(NotPermitted, match="another person"):
        services.version_approve(membership=manager, version=version)


def test_a_draft_needs_an_approver_and_text(org, manager, library):
    policy = services.policy_adopt(membership=manager, key="access-control")
    version = PolicyVersion.objects.for_org(org).get(policy=policy)
    with pytest.raises(ValidationFailed, match="approver"):
        services.version_submit(membership=manager, version=version)
    with pytest.raises(ValidationFailed, match="Write"):
        services.version_edit(membership=manager, version=version, body="   ")
    with pytest.raises(ValidationFailed):
        services.version_edit(membership=manager, version=version, body="a\x00b")


def test_a_new_version_starts_from_the_approved_text_and_needs_approval_again(
    org, manager, approver, adopted
):
    v1 = approve(manager, approver, adopted)
    v2 = services.version_start(membership=manager, policy=adopted)
    assert v2.number == 2 and v2.body == v1.body and v2.state == VersionState.DRAFT
    with pytest.raises(Conflict):
        services.version_start(membership=manager, policy=adopted)
    services.version_edit(membership=manager, version=v2, body=v1.body + "\n2. New rule.\n")
    v2 = approve(manager, approver, adopted)
    assert v2.sha256 != v1.sha256
    v1.refresh_from_db()
    assert v1.state == VersionState.APPROVED  # history is kept as it was


def test_contributors_cannot_write_policies(org, contributor, library, adopted):
    with pytest.raises(NotPermitted):
        services.policy_adopt(membership=contributor, key="access-control")
    with pytest.raises(NotPermitted):
        services.version_start(membership=contributor, policy=adopted)


def test_an_approved_policy_is_never_deleted(org, manager, approver, adopted):
    approve(manager, approver, adopted)
    with pytest.raises(Conflict):
        services.policy_delete(membership=manager, policy=adopted)
    assert Policy.objects.for_org(org).filter(pk=adopted.pk).exists()
