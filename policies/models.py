"""Policies: an organization's written policies, each a series of versions.

A version is written as a *draft*, sent to the policy's named approver (*in review*), then
*approved*: from then on its text is immutable (the model refuses to change it, and on
PostgreSQL a trigger refuses it too), identified by the SHA-256 of its Markdown. The policy's
current version is its latest approved one; a new draft starts from it. A review date follows
each approval by the policy's cadence (``review_cadence_months``, annual by default).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class Policy(TenantModel):
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    # The library entry it was adopted from ("" for a policy written from scratch).
    library_key = models.CharField(max_length=80, blank=True)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The named person who approves its versions.
    approver = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_cadence_months = models.PositiveSmallIntegerField(default=12)
    # Set by each approval (approval date + cadence); null until the first approval.
    next_review_date = models.DateField(null=True, blank=True)
    # Trust Services Criteria refs the policy supports, as the library gives them.
    criteria = models.JSONField(default=list, blank=True)
    controls = models.ManyToManyField(
        "controls.Control", through="PolicyControl", related_name="policies", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["organization", "title"], name="policy_unique_title"),
            models.UniqueConstraint(
                fields=["organization", "library_key"],
                condition=~Q(library_key=""),
                name="policy_adopted_once",
            ),
            models.CheckConstraint(
                condition=Q(review_cadence_months__gte=1, review_cadence_months__lte=36),
                name="policy_cadence_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PolicyControl(TenantModel):
    """A control the policy supports (its evidence receives the policy's approvals)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="+")
    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "policy", "control"], name="policy_control_unique"
            )
        ]


class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "Awaiting approval"
    APPROVED = "approved", "Approved"


OPEN_STATES = (VersionState.DRAFT, VersionState.IN_REVIEW)


class PolicyVersion(TenantModel):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=VersionState.choices, default="draft")
    body = models.TextField()
    change_note = models.CharField(max_length=300, blank=True)
    # Who last changed the text: the approver cannot be this person (segregation of duties).
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Why the approver sent it back (cleared when it is sent again).
    return_note = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_label = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "policy", "number"], name="policy_version_unique_number"
            ),
            # At most one version being written or reviewed per policy.
            models.UniqueConstraint(
                fields=["organization", "policy"],
                condition=Q(state__in=["draft", "in_review"]),
                name="policy_one_open_version",
            ),
            models.CheckConstraint(
                condition=Q(state__in=VersionState.values), name="policy_version_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state="approved")
                | (Q(approved_at__isnull=False) & ~Q(sha256="") & ~Q(approved_by_label="")),
                name="policy_version_approved_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "policy", "state"], name="policy_version_state")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        """An approved version's text and identity never change (the trigger's twin, so
        SQLite refuses it too)."""
        if not self._state.adding and self.pk:
            stored = (
                PolicyVersion._base_manager.filter(pk=self.pk)
                .values("state", "body", "sha256", "number")
                .first()
            )
            if (
                stored
                and stored["state"] == VersionState.APPROVED
                and (
                    self.state != VersionState.APPROVED
                    or self.body != stored["body"]
                    or self.sha256 != stored["sha256"]
                    or self.number != stored["number"]
                )
            ):
                raise ValueError("An approved policy version is immutable.")
        super().save(*args, **kwargs)


# The acceptance models live in their own module; the app registry finds them through here.
from policies.models_acceptance import (  # noqa: E402
    Acceptance,
    AcceptanceChannel,
    AcceptanceLink,
    AssignmentTarget,
    PolicyAssignment,
)

__all__ = [
    "OPEN_STATES",
    "Acceptance",
    "AcceptanceChannel",
    "AcceptanceLink",
    "AssignmentTarget",
    "Policy",
    "PolicyAssignment",
    "PolicyControl",
    "PolicyVersion",
    "VersionState",
]
