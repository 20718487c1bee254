"""The "Auditor access" card of the audit dashboard (who sees the audit in the portal)."""

from __future__ import annotations

from django import template

from reports import selectors
from tenants import permissions
from tenants.permissions import Action

register = template.Library()


@register.inclusion_tag("reports/portal/_access_card.html", takes_context=True)
def auditor_access_card(context: template.Context, audit: object) -> dict:
    request = context["request"]
    accesses = selectors.auditor_accesses(audit)
    can_manage = permissions.can(request.membership, Action.MEMBER_MANAGE)
    return {
        "request": request,
        "organization": request.organization,
        "audit": audit,
        "accesses": accesses,
        "choices": selectors.auditor_choices(audit, accesses) if can_manage else [],
        "can_manage": can_manage,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def open_request_count(audit: object) -> int:
    """How many of the audit's requests for information wait for an answer (one query)."""
    return selectors.open_request_count(audit)
