"""Changing the organization's risk matrix: its size, the labels of its steps, the thresholds of
its levels and how often the risk assessment is run.

Rules:
* managers only (``Action.RISK_MANAGE``: owners, admins, compliance managers and their keys);
* the size is 2..10; one label per step on each axis, lowest first, each non-empty and at most
  ``LABEL_MAX`` characters;
* the thresholds are the lowest score of each level above "low": whole numbers with
  medium < high < critical, all within 1..size²;
* the assessment interval is ``INTERVAL_DAYS`` (a month to three years);
* shrinking is refused while any risk is scored beyond the new size (inherent or residual
  likelihood or impact above it): those risks are rescored first, nothing is changed for them.
Levels are computed from the matrix when read (register, heat map, API), so a change shows at
once; nothing stored is recomputed. One activity entry with the diff, in the same transaction
as the change; a refusal stores nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from risks import matrix as matrices
from risks.models import MAX_SIZE, Level, Risk, RiskMatrix
from risks.selectors import beyond_filter
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action

MIN_SIZE = 2
LABEL_MAX = 40
INTERVAL_DAYS = (30, 1095)
THRESHOLD_LEVELS = (Level.MEDIUM.value, Level.HIGH.value, Level.CRITICAL.value)
FIELDS = (
    "size",
    "likelihood_labels",
    "impact_labels",
    "thresholds",
    "assessment_interval_days",
)
AXES = {"likelihood_labels": "likelihood", "impact_labels": "impact"}


class RisksBeyondMatrix(ValidationFailed):
    """Shrinking the matrix while risks are scored beyond the new size; ``count`` and
    ``size`` let a page link to those risks (the register filtered with ``beyond``)."""

    code = "risks_beyond_matrix"

    def __init__(self, count: int, size: int) -> None:
        noun = "risk has" if count == 1 else "risks have"
        super().__init__(
            f"{count} {noun} a likelihood or impact above {size}: rescore them first.",
            field="size",
        )
        self.count = count
        self.size = size


def _whole(value: Any, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{what} must be a whole number from {low} to {high}.", field=field)
    return value


def _labels(value: Any, field: str, size: int) -> list[str]:
    axis = AXES[field]
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"Give the {axis} labels as a list, lowest first.", field=field)
    labels = [str(v).strip() if isinstance(v, str) else "" for v in value]
    if len(labels) != size:
        raise ValidationFailed(
            f"Give {size} {axis} labels, one per step of the {size}x{size} matrix "
            f"(lowest first); {len(labels)} given.",
            field=field,
        )
    for step, text in enumerate(labels, start=1):
        if not text or len(text) > LABEL_MAX:
            raise ValidationFailed(
                f"The {axis} label of step {step} must be 1 to {LABEL_MAX} characters.",
                field=field,
            )
    return labels


def _thresholds(value: Any, size: int) -> dict[str, int]:
    top = size * size
    if not isinstance(value, dict) or set(value) != set(THRESHOLD_LEVELS):
        raise ValidationFailed(
            "Give the lowest score of each level: medium, high and critical.", field="thresholds"
        )
    out = {}
    for name in THRESHOLD_LEVELS:
        out[name] = _whole(
            value[name], "thresholds", 1, top, f"The {name} threshold (a score on the matrix)"
        )
    if not out["medium"] < out["high"] < out["critical"]:
        raise ValidationFailed(
            "The thresholds must rise: medium below high, high below critical.",
            field="thresholds",
        )
    return out


def matrix_update(*, membership: Membership, **values: Any) -> RiskMatrix:
    """Change some of ``FIELDS``; the others keep their values (the labels must still match
    the size, so a new size comes with its labels)."""
    permissions.require(membership, Action.RISK_MANAGE)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    org = membership.organization
    with transaction.atomic():
        # Locked (created with the defaults on the first change): two changes at once apply
        # one after the other, each checked in full, and a risk scored meanwhile waits for
        # this change, then is checked against the new size (``services._save``).
        matrix = matrices.matrix_locked(org)
        before = snapshot(matrix, FIELDS)
        size = _whole(values.get("size", matrix.size), "size", MIN_SIZE, MAX_SIZE, "The size")
        if size < matrix.size:
            count = Risk.objects.for_org(org).filter(beyond_filter(size)).count()
            if count:
                raise RisksBeyondMatrix(count, size)
        wanted = {
            "size": size,
            "likelihood_labels": _labels(
                values.get("likelihood_labels", matrix.likelihood_labels), "likelihood_labels", size
            ),
            "impact_labels": _labels(
                values.get("impact_labels", matrix.impact_labels), "impact_labels", size
            ),
            "thresholds": _thresholds(values.get("thresholds", matrix.thresholds), size),
            "assessment_interval_days": _whole(
                values.get("assessment_interval_days", matrix.assessment_interval_days),
                "assessment_interval_days",
                *INTERVAL_DAYS,
                "The assessment interval (days)",
            ),
        }
        changes = diff(before, wanted)
        if not changes:
            return matrix
        for name, value in wanted.items():
            setattr(matrix, name, value)
        matrix.updated_at = timezone.now()
        matrix.save()
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="update",
            target=matrix,
            changes=changes,
        )
    return matrix
