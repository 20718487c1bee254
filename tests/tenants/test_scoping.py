"""The scoped manager fails closed and never mixes organizations."""

from __future__ import annotations

import pytest

from tenants.context import current_org_id, org_scope
from tenants.models import Membership
from tenants.scoping import TenantScopeError


@pytest.mark.django_db
def test_query_without_organization_raises(manager):
    with pytest.raises(TenantScopeError, match="no current organization"):
        list(Membership.objects.all())


@pytest.mark.django_db
def test_scope_returns_only_current_organization(org, other_org, manager, outsider):
    with org_scope(org):
        assert list(Membership.objects.all()) == [manager]
    with org_scope(other_org):
        assert list(Membership.objects.all()) == [outsider]
    assert current_org_id() is None


@pytest.mark.django_db
def test_scope_is_reset_after_an_exception(org):
    with pytest.raises(ValueError), org_scope(org):
        raise ValueError
    assert current_org_id() is None


@pytest.mark.django_db
def test_for_org_and_unscoped(org, other_org, manager, outsider):
    assert list(Membership.objects.for_org(org)) == [manager]
    assert list(Membership.objects.for_org(other_org.pk)) == [outsider]
    assert set(Membership.objects.dangerously_unscoped(reason="test")) == {manager, outsider}


@pytest.mark.django_db
def test_related_lookups_do_not_need_a_scope(manager):
    # Forward relations use Django's base manager: safe, since the row is already known.
    assert manager.organization.slug == "acme-test"
