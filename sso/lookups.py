"""Which organization verified an e-mail domain: the one lookup of single sign-on that crosses
organizations (the sign-in page knows an address, not an organization).

On PostgreSQL through a ``SECURITY DEFINER`` function made like ``tenants.lookups``' (migration
``sso.0002_domain_lookup``; ``create_app_role`` grants it, ``PUBLIC`` cannot call it). It
returns only verified domains and only the organization's id: never the token. Elsewhere
(SQLite: no row-level security) the ORM does it.
"""

from __future__ import annotations

from django.db import connection

FUNCTION = "app_sso_verified_domain(text)"
SPEC = (
    (("organization_id", "bigint"), ("domain", "varchar")),
    "public.sso_ssodomain",
    "t.domain = $1 AND t.verified_at IS NOT NULL",
)


def organization_id_for_domain(domain: str) -> int | None:
    """The organization that verified ``domain`` (lower-case), or None."""
    if connection.vendor != "postgresql":
        from sso.models import SsoDomain

        row = (
            SsoDomain._base_manager.filter(domain=domain, verified_at__isnull=False)
            .values_list("organization_id", flat=True)
            .first()
        )
        return row
    with connection.cursor() as cursor:
        cursor.execute("SELECT organization_id FROM app_sso_verified_domain(%s)", [domain])
        found = cursor.fetchone()
    return found[0] if found else None
