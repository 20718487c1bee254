"""Tenant-owned models and the one path by which they are queried.

``Model.objects`` only ever returns rows of the current organization (see ``tenants.context``)
and raises ``TenantScopeError`` when there is none, so a query that forgets the tenant fails
loudly instead of leaking. ``for_org(org)`` scopes explicitly; ``dangerously_unscoped(reason)``
is the logged escape hatch for system-wide jobs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import models

from tenants.context import current_org_id

if TYPE_CHECKING:
    from tenants.models import Organization

logger = logging.getLogger("tenants.scoping")


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried with no current organization."""


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    def _unfiltered(self) -> TenantQuerySet:
        return super().get_queryset()

    def get_queryset(self) -> TenantQuerySet:
        org_id = current_org_id()
        if org_id is None:
            raise TenantScopeError(
                f"{self.model.__name__} was queried with no current organization: "
                "use .for_org(org) or run inside tenants.context.org_scope()."
            )
        return self._unfiltered().filter(organization_id=org_id)

    def for_org(self, org: Organization | int) -> TenantQuerySet:
        org_id = org if isinstance(org, int) else org.pk
        return self._unfiltered().filter(organization_id=org_id)

    # Inserts read nothing, and each new row names its organization (a NOT NULL column), so
    # they need no current organization.
    def create(self, **kwargs):
        return self._unfiltered().create(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        return self._unfiltered().bulk_create(objs, *args, **kwargs)

    def dangerously_unscoped(self, *, reason: str) -> TenantQuerySet:
        logger.info("unscoped query on %s: %s", self.model.__name__, reason)
        return self._unfiltered()


class TenantModel(models.Model):
    """Base of every tenant-owned table: an indexed, non-null organization."""

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        # Django's own lookups (forward relations, cascades) use the plain ``_base_manager``,
        # so they keep working without a current organization.
        abstract = True
