"""Single sign-on's entries in the organization's activity log, all about its connection."""

from __future__ import annotations

from typing import Any

from tenants.activity import Actor, activity_record
from tenants.models import Organization

CONNECTION = {"object_type": "sso.ssoconnection", "object_repr": "Single sign-on"}


def log_event(org: Organization, actor: Actor, action: str, changes: dict[str, Any]) -> None:
    activity_record(organization=org, actor=actor, action=action, changes=changes, **CONNECTION)
