"""Whether a bearer credential's creator still stands behind it.

An API key or SCIM token a member created is only as good as that member's own access: it
stands while the creator's membership of the key's organization exists, has not run out
(``Membership.expires_at``) and still has a role that may create such credentials (the
``Action`` they are registered with). Removal, deactivation and demotion revoke at once
(``tenants.services_members``); an access end that simply arrives does not write anything,
so authentication reads the creator's standing in the same query that loads the credential
(``creator_lapsed``: an ORM annotation, and the same condition in SQL for the
``SECURITY DEFINER`` key lookup, ``tenants.lookups``), and a periodic sweep revokes such
credentials for good (``tenants.credentials_sweep``).

Keys nobody created in the app (``api_key_create_system``: ``created_by`` empty) are not
judged; a credential kind with no system path (SCIM tokens) counts an empty creator as gone.
"""

from __future__ import annotations

import re

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from tenants.models import Membership
from tenants.permissions import ROLE_ACTIONS, Action

LAPSED = "creator_lapsed"
REASON = "creator's access ended"


def granting_roles(action: Action) -> list[str]:
    """The roles that may create a credential guarded by ``action``, sorted."""
    return sorted(role for role, actions in ROLE_ACTIONS.items() if action in actions)


def creator_lapsed(action: Action, members: QuerySet[Membership], *, system_issued: bool) -> Case:
    """An annotation: True when the row's creator no longer stands behind it.

    ``members`` is the membership queryset to look in (``Membership.objects.for_org(org)``
    where the organization is known). ``system_issued``: an empty ``created_by`` is a system
    credential, never lapsed; otherwise it is a creator who is gone."""
    stands = Exists(
        members.filter(
            organization_id=OuterRef("organization_id"),
            user_id=OuterRef("created_by_id"),
            role__in=granting_roles(action),
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    )
    when = When(~stands, created_by__isnull=False, then=Value(True))
    if not system_issued:
        when = When(~stands, then=Value(True))
    return Case(when, default=Value(False), output_field=BooleanField())


def creator_lapsed_sql(action: Action, *, row: str = "t") -> str:
    """``creator_lapsed`` for a system-issuable credential as SQL over the table alias ``row``
    (PostgreSQL), for the lookup functions. The roles are written into the function when a
    migration creates it: a change of who may create keys needs a migration that recreates
    it (``tests/tenants/test_credentials_sweep.py`` compares the database with this). The
    time is the statement's, not the transaction's (``now()``): a long transaction must not
    keep a key alive past its creator's end."""
    roles = granting_roles(action)
    if not all(re.fullmatch(r"[a-z_]+", role) for role in roles):  # pragma: no cover
        raise ValueError(f"unexpected role names: {roles}")
    listed = ", ".join(f"'{role}'" for role in roles)
    return (
        f"({row}.created_by_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "  # noqa: S608 (fixed)
        f"public.tenants_membership AS m WHERE m.organization_id = {row}.organization_id "
        f"AND m.user_id = {row}.created_by_id AND m.role IN ({listed}) "
        f"AND (m.expires_at IS NULL OR m.expires_at > statement_timestamp())))"
    )
