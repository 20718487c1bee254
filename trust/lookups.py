"""Finding a published trust center from a public request: by its slug (``/trust/<slug>/``)
or by the host it is served on (a custom domain). The request knows no organization yet and
the web role is bound by row-level security, so on PostgreSQL this is one ``SECURITY DEFINER``
function (registered with ``tenants.lookups``, created by migration ``trust.0002``) returning
only the routing columns of a *published* trust center: an unpublished one is not found.
The page itself is then read inside the organization (``for_org``)."""

from __future__ import annotations

from django.db import connection

from tenants.lookups import rows_with_organization
from trust.models import TrustCenter

ROUTE_FUNCTION = "app_trust_center_route(text, text)"
ROUTE_COLUMNS = (
    ("id", "bigint"),
    ("organization_id", "bigint"),
    ("slug", "varchar"),
    ("custom_domain", "varchar"),
    ("version", "integer"),
)
# A custom domain routes only once verified (``trust.domains``): several trust centers may
# claim a domain, at most one has verified it (``trust_center_domain_verified_once``).
ROUTE_WHERE = (
    "t.published AND ((t.slug = $1 AND $1 <> '') OR "
    "(t.custom_domain = $2 AND $2 <> '' AND t.domain_verified_at IS NOT NULL))"
)


def published_center(*, slug: str = "", host: str = "") -> TrustCenter | None:
    """The published trust center at ``slug`` or served on ``host`` (one query), with its
    organization; only its routing fields are loaded."""
    if not slug and not host:
        return None
    if connection.vendor != "postgresql":
        rows = TrustCenter._base_manager.select_related("organization").filter(published=True)
        rows = (
            rows.filter(slug=slug)
            if slug
            else rows.filter(custom_domain=host, domain_verified_at__isnull=False)
        )
        return rows.only(*[c for c, _ in ROUTE_COLUMNS], "organization").first()
    found = rows_with_organization(TrustCenter, ROUTE_FUNCTION, [slug, host])
    return found[0] if found else None
