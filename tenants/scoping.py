"""Tenant-owned models and the one path by which they are queried.

``Model.objects`` only ever returns rows of the current organization (see ``tenants.context``)
and raises ``TenantScopeError`` when there is none, so a query that forgets the tenant fails
loudly instead of leaking. ``for_org(org)`` scopes explicitly; ``dangerously_unscoped(reason)``
is the logged escape hatch for system-wide jobs: its queries go to the system connection
(``tenants.rls.system``), which a web process does not have.
"""

from __future__ import annotations

import functools
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from django.db import models
from django.db.models.options import Options
from django.db.models.signals import class_prepared
from django.utils.functional import cached_property

from tenants import rls
from tenants.context import current_org_id, org_scope

if TYPE_CHECKING:
    from tenants.models import Organization

logger = logging.getLogger("tenants.scoping")


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried with no current organization."""


def _in_rls_scope(method_name: str):  # noqa: ANN202
    """A ``QuerySet`` method that runs where its queryset asks: in a system block on the system
    connection (``dangerously_unscoped``), or in its organization (``for_org``) when none is
    current."""
    parent = getattr(models.QuerySet, method_name)

    def method(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if method_name == "_fetch_all" and self._result_cache is not None:
            return parent(self, *args, **kwargs)
        org_id = self._rls_org
        if org_id is None:  # a related lookup: the organization of the row it starts from
            org_id = getattr(self._hints.get("instance"), "organization_id", None)
        if self._rls_system is not None:
            scope = rls.system(self._rls_system, log=False)
        elif org_id is not None and current_org_id() is None and not rls.system_active():
            scope = org_scope(org_id)  # ``for_org`` or a related lookup, no current org
        else:
            return parent(self, *args, **kwargs)
        with scope:
            result = parent(self, *args, **kwargs)
            if method_name == "iterator":  # a generator: drain it inside the system block
                result = iter(list(result))
            return result

    method.__name__ = method_name
    return method


class TenantQuerySet(models.QuerySet):
    # The reason of ``dangerously_unscoped``: this queryset runs on the system connection
    # (``tenants.rls.system``), since it legitimately crosses organizations.
    _rls_system: str | None = None
    # The organization of ``for_org``: evaluated with no current organization, the queryset
    # runs with it as the current one (the database setting the policies read).
    _rls_org: int | None = None

    def _clone(self):  # noqa: ANN202
        clone = super()._clone()
        clone._rls_system = self._rls_system
        clone._rls_org = self._rls_org
        return clone

    _fetch_all = _in_rls_scope("_fetch_all")
    iterator = _in_rls_scope("iterator")
    count = _in_rls_scope("count")
    exists = _in_rls_scope("exists")
    aggregate = _in_rls_scope("aggregate")
    update = _in_rls_scope("update")
    delete = _in_rls_scope("delete")
    explain = _in_rls_scope("explain")


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
        queryset = self._unfiltered().filter(organization_id=org_id)
        queryset._rls_org = org_id
        return queryset

    # Inserts read nothing, and each new row names its organization (a NOT NULL column), so
    # they need no current organization.
    def create(self, **kwargs):
        return self._unfiltered().create(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        orgs = {obj.organization_id for obj in objs}
        if current_org_id() is None and len(orgs) == 1:
            with org_scope(orgs.pop()):
                return self._unfiltered().bulk_create(objs, *args, **kwargs)
        return self._unfiltered().bulk_create(objs, *args, **kwargs)

    def dangerously_unscoped(self, *, reason: str) -> TenantQuerySet:
        """Every organization's rows, for system jobs (workers and commands) only.

        Runs on the system connection (``tenants.rls.system``: a role with ``BYPASSRLS``,
        ``DATABASE_SYSTEM_URL``), logged with ``reason``; in a process without it, under
        row-level security, evaluating it fails loudly. Related rows read later (lazy foreign
        keys) go to the default connection: use ``select_related``, or act on what it finds
        in its organization (``for_org``).
        """
        logger.info("unscoped query on %s: %s", self.model.__name__, reason)
        queryset = self._unfiltered().using(rls.system_alias())
        queryset._rls_system = f"{self.model.__name__}: {reason}"
        return queryset


class _BaseManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Django's own lookups (related objects, refresh, cascades): unfiltered, but a related
    lookup with no current organization runs in its starting row's one (``_in_rls_scope``)."""


class _TenantOptions(Options):
    """``_meta`` of tenant models: the base manager is a ``_BaseManager`` (not a migration
    state change, unlike a declared manager)."""

    @cached_property
    def base_manager(self):  # noqa: ANN202
        if self.base_manager_name:
            return super().base_manager
        manager = _BaseManager()
        manager.name, manager.model, manager.auto_created = "_base_manager", self.model, True
        return manager


def _tenant_options(sender: type, **kwargs: object) -> None:
    if issubclass(sender, TenantModel) and type(sender._meta) is Options:
        sender._meta.__class__ = _TenantOptions
        sender._meta.__dict__.pop("base_manager", None)


class_prepared.connect(_tenant_options, dispatch_uid="tenants.scoping.options")


_OWN_SCOPE_METHODS = ("save", "delete", "refresh_from_db")


def _in_own_scope(method):  # noqa: ANN001, ANN202
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        with self._own_scope():
            return method(self, *args, **kwargs)

    return wrapper


class TenantModel(models.Model):
    """Base of every tenant-owned table: an indexed, non-null organization.

    With no current organization, an instance's own writes and reloads act in its row's
    organization (the row names it), so row-level security checks them against it; subclass
    overrides of ``save``/``delete``/``refresh_from_db`` are wrapped too (``__init_subclass__``)
    so what they do around ``super()`` runs there as well.
    """

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        # Django's own lookups (forward relations, cascades) use the base manager, unfiltered,
        # so they keep working without a current organization.
        abstract = True

    def __init_subclass__(cls, **kwargs) -> None:  # noqa: ANN003
        super().__init_subclass__(**kwargs)
        for name in _OWN_SCOPE_METHODS:
            if name in cls.__dict__:
                setattr(cls, name, _in_own_scope(cls.__dict__[name]))

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        with self._own_scope():
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        with self._own_scope():
            return super().delete(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        with self._own_scope():
            return super().refresh_from_db(*args, **kwargs)

    def _own_scope(self) -> AbstractContextManager:
        if current_org_id() is None and self.organization_id is not None:
            return org_scope(self.organization_id)
        return nullcontext()
