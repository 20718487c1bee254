"""Settings pages a role may not open say who can, instead of a bare 403.

A compliance manager who follows a link to the API keys (or an admin to an owner-only
setting) learns which people can make the change, so they know whom to ask.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants import permissions, selectors
from tenants.models import Membership, Organization, Role
from tenants.permissions import Action


def roles_allowed(action: Action) -> list[str]:
    """Membership roles whose members may do ``action``, most powerful first."""
    return [r for r in Role.values if action in permissions.ROLE_ACTIONS.get(r, ())]


def who_can(org: Organization, action: Action) -> list[Membership]:
    """Active members who may do ``action`` (one query)."""
    members = selectors.members_list(org).filter(role__in=roles_allowed(action))
    return [m for m in members if m.is_active]


def _roles_label(action: Action) -> str:
    labels = [Role(r).label.lower() for r in roles_allowed(action)]
    return " or ".join(f"an {x}" if x[0] in "aeiou" else f"a {x}" for x in labels)


def settings_refused(request: HttpRequest, action: Action, what: str) -> HttpResponse:
    """A 403 page that names the roles and the people who can change ``what``."""
    context = {
        "what": what,
        "roles_label": _roles_label(action),
        "people": who_can(request.organization, action),
    }
    return render(request, "tenants/settings_refused.html", context, status=403)


def settings_page(action: Action, what: str) -> Callable:
    """Decorate a settings view: a member without ``action`` gets ``settings_refused``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not permissions.can(request.membership, action):
                return settings_refused(request, action, what)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
