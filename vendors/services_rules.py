"""Changing an organization's vendor freshness rules (``vendors.rules``), and keeping the
vendors' next review dates in step with them.

Rules:
* managers only (``VENDOR_MANAGE``); every change in the activity log with its diff;
* each rule is a whole number in its range (``models_rules.RANGES``), and a more critical
  vendor is reviewed at least as often as a less critical one;
* document statuses are computed when read, so they follow a change at once; the one stored
  thing derived from the rules is a vendor's next review date (its latest review's date + the
  interval of its criticality). When an interval changes, the vendors whose next review date is
  still the one their latest review derived are rescheduled with the new interval (a date a
  manager set by hand is left alone); the review rows keep what was proposed at the time.
A refusal stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action
from vendors.models import Vendor, VendorReview
from vendors.models_rules import RANGES, VendorRules
from vendors.rules import CRITICALITIES, FreshnessRules, from_row, rules_for, rules_row_locked

FIELDS = tuple(RANGES)
LABELS = {
    "soc2_months": "A SOC 2 report counts for (months after its period end)",
    "bridge_months": "A bridge letter counts for (months after its date)",
    "questionnaire_months": "A questionnaire counts for (months after its upload)",
    "expiring_days": "Expiring within (days)",
    **{f"review_months_{c}": f"Review a {c} vendor every (months)" for c in CRITICALITIES},
}


def _checked(values: dict[str, Any], current: VendorRules) -> dict[str, int]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"These rules do not exist: {', '.join(sorted(unknown))}.")
    out = {}
    for name in FIELDS:
        value = values.get(name, getattr(current, name))
        low, high = RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(
                f"{LABELS[name]}: a whole number from {low} to {high}.", field=name
            )
        out[name] = value
    for more, less in zip(CRITICALITIES, CRITICALITIES[1:], strict=False):
        if out[f"review_months_{more}"] > out[f"review_months_{less}"]:
            raise ValidationFailed(
                f"A {more} vendor must be reviewed at least as often as a {less} one: "
                f"every {out[f'review_months_{less}']} months or less.",
                field=f"review_months_{more}",
            )
    return out


def _latest_reviews(vendors: QuerySet[Vendor], org: Any) -> QuerySet[Vendor]:
    latest = VendorReview.objects.for_org(org).filter(vendor=OuterRef("pk"))
    latest = latest.order_by("-reviewed_on", "-id")
    return vendors.annotate(
        last_reviewed_on=Subquery(latest.values("reviewed_on")[:1]),
        last_next_review=Subquery(latest.values("next_review_date")[:1]),
    ).filter(last_reviewed_on__isnull=False)


def vendors_reschedule(
    org: Any,
    vendors: QuerySet[Vendor],
    *,
    was: FreshnessRules,
    now: FreshnessRules,
    old_criticality: Mapping[int, str] | None = None,
) -> list[int]:
    """Move the next review date of ``vendors`` whose date is still derived from their latest
    review (what ``was`` gave for their criticality, or for their criticality before a change,
    ``old_criticality`` by vendor id, or what the review proposed) to what ``now`` derives;
    the ids moved. Two queries (one read with the latest review as sub-selects, one bulk
    update)."""
    old_criticality = old_criticality or {}
    moved = []
    stamp = timezone.now()
    for vendor in _latest_reviews(vendors, org).only("id", "criticality", "next_review_date"):
        last_on = vendor.last_reviewed_on
        derived = {
            was.next_review(old_criticality.get(vendor.pk, vendor.criticality), last_on),
            vendor.last_next_review,
        }
        if vendor.next_review_date not in derived:
            continue  # set by hand since the review: not ours to move
        wanted = now.next_review(vendor.criticality, last_on)
        if wanted != vendor.next_review_date:
            vendor.next_review_date, vendor.updated_at = wanted, stamp
            moved.append(vendor)
    Vendor.objects.for_org(org).bulk_update(moved, ["next_review_date", "updated_at"])
    return [vendor.pk for vendor in moved]


def vendors_follow_criticality(org: Any, old_criticality: Mapping[int, str]) -> list[int]:
    """After vendors' criticality changed (the form, the API, the import; their rows saved):
    those of ``old_criticality`` (vendor id -> criticality before) whose next review date is
    still the one their latest review derived move to what their new criticality gives; a date
    set by hand stays. The ids moved; three queries, any number of vendors."""
    if not old_criticality:
        return []
    rules = rules_for(org)
    scope = Vendor.objects.for_org(org).filter(pk__in=list(old_criticality))
    return vendors_reschedule(org, scope, was=rules, now=rules, old_criticality=old_criticality)


def rules_update(*, membership: Membership, **values: Any) -> VendorRules:
    """Change some of the rules (``FIELDS``); the others keep their values."""
    permissions.require(membership, Action.VENDOR_MANAGE)
    org = membership.organization
    with transaction.atomic():
        row = rules_row_locked(org)  # created with the defaults on the first change
        before, was = snapshot(row, FIELDS), from_row(row)
        wanted = _checked(values, row)
        changes = diff(before, wanted)
        if not changes:
            return row
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at = timezone.now()
        row.save()
        moved: list[int] = []
        intervals = {n[len("review_months_") :] for n in changes if n.startswith("review_months_")}
        if intervals:
            scope = Vendor.objects.for_org(org).filter(criticality__in=intervals)
            moved = vendors_reschedule(org, scope, was=was, now=from_row(row))
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="update",
            target=row,
            changes={
                **changes,
                **({"vendors_rescheduled": [None, len(moved)]} if moved else {}),
            },
        )
    return row
