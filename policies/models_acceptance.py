"""Who must accept which policy, the personal links that ask them, and their acceptances.

* ``PolicyAssignment``: a policy is assigned to everyone, to a department or to one person;
  each approved version of an assigned policy asks every person it covers (active on the day
  it is sent) again.
* ``AcceptanceLink``: a personal, single-purpose, expiring link for one person and one
  version; only the SHA-256 of its random token is stored, and it works once.
* ``Acceptance``: the immutable record (the model refuses changes; on PostgreSQL a trigger
  refuses updates and deletes): person, version, the SHA-256 of exactly the text shown, the
  consent sentence, time, IP address and user agent.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from people.models_links import (
    AssignmentBase,
    AssignmentTarget,
    PersonalLinkBase,
    target_consistent,
)
from tenants.scoping import TenantModel

__all__ = ["AssignmentTarget"]  # defined with the shared bases; imported from here too


class PolicyAssignment(AssignmentBase):
    policy = models.ForeignKey("policies.Policy", on_delete=models.CASCADE, related_name="+")

    class Meta(AssignmentBase.Meta):
        constraints = [
            models.CheckConstraint(
                condition=target_consistent(), name="assignment_target_consistent"
            ),
            models.UniqueConstraint(
                fields=["organization", "policy", "target", "department", "person"],
                name="assignment_unique",
                nulls_distinct=False,
            ),
        ]


class AcceptanceLink(PersonalLinkBase):
    version = models.ForeignKey(
        "policies.PolicyVersion", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            # One live link per person and version (a resend replaces the token).
            models.UniqueConstraint(
                fields=["organization", "person", "version"], name="acceptance_link_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "version"], name="acceptance_link_version"),
        ]


class AcceptanceChannel(models.TextChoices):
    LINK = "link", "Personal link"
    APP = "app", "In the app"


class Acceptance(TenantModel):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "policies.PolicyVersion", on_delete=models.PROTECT, related_name="acceptances"
    )
    # SHA-256 of the Markdown exactly as shown (the organization's name substituted).
    text_sha256 = models.CharField(max_length=64)
    consent = models.TextField()
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    channel = models.CharField(max_length=4, choices=AcceptanceChannel.choices)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person", "version"], name="acceptance_once"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "version"], name="acceptance_version"),
            models.Index(fields=["organization", "person"], name="acceptance_person"),
        ]

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("An acceptance is immutable.")
        super().save(*args, **kwargs)
