"""The roster side of provisioning (``manage_personnel`` on): a SCIM user is also the
organization's ``people.Person``, written through the people services only, so the joiner's
checklist opens on creation and the leaver's on deactivation, with their activity entries.

The token is the acting principal (``ScimToken`` offers the principal interface), so the
roster's entries read "SCIM (<token name>)".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from people.models import Person
from people.services import person_create, person_end, person_update
from scim.models import ScimToken
from tenants.models import Membership


def _person_of(membership: Membership) -> Person | None:
    rows = Person.objects.for_org(membership.organization_id)
    return (
        rows.filter(membership=membership).first()
        or rows.filter(email=membership.user.email.lower()).first()
    )


def _full_name(membership: Membership) -> str:
    user = membership.user
    return f"{user.first_name} {user.last_name}".strip() or user.email.split("@")[0]


def person_joined(*, token: ScimToken, membership: Membership, extra: dict[str, Any]) -> Person:
    """An active SCIM user: their roster entry, created (starting today) or linked, updated."""
    today = timezone.localdate()
    person = _person_of(membership)
    fields = {k: extra[k] for k in ("title", "department") if k in extra}
    if person is None:
        return person_create(
            membership=token,
            full_name=_full_name(membership),
            email=membership.user.email,
            start_date=today,
            member=membership,
            **fields,
        )
    changes: dict[str, Any] = fields | {
        "full_name": _full_name(membership),
        "email": membership.user.email,
    }
    if person.membership_id != membership.pk:
        changes["member"] = membership
    if person.end_date is not None:
        changes["end_date"] = None  # rehired: a reactivation reopens the entry
    return person_update(membership=token, person=person, **changes)


def person_left(*, token: ScimToken, membership: Membership) -> Person | None:
    """A deactivated SCIM user: their entry ends today (opening the leaver's checklist)."""
    person = _person_of(membership)
    if person is None or person.anonymised_at is not None:
        return None
    last_day: dt.date = max(timezone.localdate(), person.start_date)
    if person.end_date is not None and person.end_date <= last_day:
        return person
    return person_end(membership=token, person=person, end_date=last_day)
