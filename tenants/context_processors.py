from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tenants import permissions
from tenants.selectors import memberships_of


def tenant(request: HttpRequest) -> dict:
    """The current organization and membership, and ``perms_org`` for templates."""
    membership = getattr(request, "membership", None)
    allowed = (
        {a.value.replace(".", "_"): permissions.can(membership, a) for a in permissions.Action}
        if membership
        else {}
    )
    return {
        "organization": getattr(request, "organization", None),
        "membership": membership,
        "can": allowed,
        # Evaluated only by templates that show the organization switcher.
        "my_memberships": SimpleLazyObject(
            lambda: list(memberships_of(request.user)) if request.user.is_authenticated else []
        ),
    }
