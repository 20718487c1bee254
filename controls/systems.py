"""Write services for systems: the products and platforms an audit puts in scope."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from controls.models import System
from controls.services import _owner_in_org, _same_org
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action


def system_save(
    *,
    membership: Membership,
    system: System | None = None,
    name: str,
    description: str = "",
    owner: Membership | int | None = None,
    components: Iterable[str] = (),
) -> System:
    """Create a system, or update ``system``."""
    permissions.require(membership, Action.AUDIT_MANAGE)
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the system a name.", field="name")
    if len(name) > System._meta.get_field("name").max_length:
        raise ValidationFailed("Keep the name under 120 characters.", field="name")
    cleaned = [c.strip()[:120] for c in components if c and c.strip()]
    if len(cleaned) > 100:
        raise ValidationFailed("List at most 100 components.", field="components")
    owner_obj = _owner_in_org(membership, owner)
    fields = ("name", "description", "owner", "components")
    org = membership.organization
    adding = system is None
    system = system or System(organization=org)
    if not adding:
        _same_org(membership, system)
    before = snapshot(system, fields) if not adding else {}
    system.name, system.description, system.owner, system.components = (
        name,
        description.strip(),
        owner_obj,
        cleaned,
    )
    changes = diff(before, snapshot(system, fields))
    if not changes:
        return system
    try:
        with transaction.atomic():
            system.save()
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="create" if adding else "update",
                target=system,
                changes=changes,
            )
    except IntegrityError as exc:
        raise ValidationFailed(f"A system named “{name}” already exists.", field="name") from exc
    return system
