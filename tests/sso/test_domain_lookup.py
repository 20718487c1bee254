"""The sign-in page's one cross-organization lookup (which organization verified a domain):
on PostgreSQL a narrow ``SECURITY DEFINER`` function that the application's role, bound by
row-level security, may call and ``PUBLIC`` may not; it answers verified domains only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from sso.lookups import FUNCTION, organization_id_for_domain
from sso.models import SsoDomain
from tenants.management.commands.create_app_role import create_app_role

pytestmark = pytest.mark.django_db
ROLE = "soc2_app_sso_lookup_test"


def _domains(org, other_org) -> None:
    SsoDomain.objects.for_org(org).create(
        organization=org, domain="acme.test", token="a" * 32, verified_at=timezone.now()
    )
    SsoDomain.objects.for_org(other_org).create(
        organization=other_org, domain="pending.test", token="b" * 32
    )


def test_only_verified_domains_are_found(org, other_org):
    _domains(org, other_org)
    assert organization_id_for_domain("acme.test") == org.pk
    assert organization_id_for_domain("pending.test") is None
    assert organization_id_for_domain("nowhere.test") is None


@pytest.mark.postgres
@pytest.mark.owner  # switches roles itself
def test_the_function_is_a_narrow_definer_the_web_role_may_call(org, other_org):
    _domains(org, other_org)
    create_app_role(ROLE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosecdef, proconfig, has_function_privilege('public', p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.oid = %s::regprocedure",
            [FUNCTION],
        )
        definer, config, public = cursor.fetchone()
        assert definer and "search_path=pg_catalog, pg_temp" in config and not public
        cursor.execute(f'SET LOCAL ROLE "{ROLE}"')
        try:
            # A role bound by row-level security, with no organization chosen for the lookup:
            # the function finds the verified domain, with its organization only.
            assert organization_id_for_domain("acme.test") == org.pk
            assert organization_id_for_domain("pending.test") is None
        finally:
            cursor.execute("RESET ROLE")
