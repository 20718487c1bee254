"""Training: what people must complete (requirements), whom it is assigned to, the personal
links that ask them, and the immutable completion records.

* ``TrainingRequirement``: a built-in module (Markdown the person reads and acknowledges) or
  an external course (the person gives the completion date and may upload a certificate);
  first due ``due_days`` after a person's start date, then every ``every_months`` months
  after their last completion (0: once).
* ``TrainingAssignment``: to everyone, a department or one person (like policies).
* ``TrainingLink``: a personal, expiring, single-use link for one person, requirement and
  cycle (the due date it answers); only the SHA-256 of its random token is stored.
* ``TrainingCompletion``: immutable (the model refuses changes; on PostgreSQL a trigger
  refuses updates and deletes): person, requirement, date, source, course or provider, the
  certificate (stored like an evidence file: SHA-256 and size) or, for the built-in module,
  the SHA-256 of exactly the text shown, with IP address and user agent.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from people.models_links import AssignmentBase, PersonalLinkBase, target_consistent
from tenants.scoping import TenantModel


class RequirementKind(models.TextChoices):
    MODULE = "module", "Built-in module"
    EXTERNAL = "external", "External course"


class TrainingRequirement(TenantModel):
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=8, choices=RequirementKind.choices)
    # The library entry it was adopted from ("" for a course defined by the organization).
    library_key = models.CharField(max_length=80, blank=True)
    module_body = models.TextField(blank=True)
    due_days = models.PositiveSmallIntegerField(default=30)
    every_months = models.PositiveSmallIntegerField(default=12)
    criteria = models.JSONField(default=list, blank=True)
    controls = models.ManyToManyField(
        "controls.Control", through="TrainingControl", related_name="training", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "title"], name="training_unique_title"),
            models.UniqueConstraint(
                fields=["organization", "library_key"],
                condition=~Q(library_key=""),
                name="training_adopted_once",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RequirementKind.values), name="training_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(due_days__lte=365, every_months__lte=36), name="training_cadence_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TrainingControl(TenantModel):
    requirement = models.ForeignKey(TrainingRequirement, on_delete=models.CASCADE, related_name="+")
    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "requirement", "control"], name="training_control_unique"
            )
        ]


class TrainingAssignment(AssignmentBase):
    requirement = models.ForeignKey(TrainingRequirement, on_delete=models.CASCADE, related_name="+")

    class Meta(AssignmentBase.Meta):
        constraints = [
            models.CheckConstraint(
                condition=target_consistent(), name="training_assignment_consistent"
            ),
            models.UniqueConstraint(
                fields=["organization", "requirement", "target", "department", "person"],
                name="training_assignment_unique",
                nulls_distinct=False,
            ),
        ]


class TrainingLink(PersonalLinkBase):
    requirement = models.ForeignKey(TrainingRequirement, on_delete=models.CASCADE, related_name="+")
    # The cycle: the due date this link asks the person to meet.
    due_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person", "requirement", "due_on"],
                name="training_link_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "requirement"], name="training_link_req"),
        ]


class CompletionSource(models.TextChoices):
    LINK = "link", "Personal link"
    APP = "app", "In the app"
    IMPORT = "import", "CSV import"
    API = "api", "API"


def certificate_upload_to(instance: TrainingCompletion, filename: str) -> str:
    # A random key: the person's file name never reaches the storage backend.
    return f"training/{instance.organization_id}/{uuid.uuid4().hex}"


class TrainingCompletion(TenantModel):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    requirement = models.ForeignKey(
        TrainingRequirement, on_delete=models.PROTECT, related_name="completions"
    )
    completed_on = models.DateField()
    source = models.CharField(max_length=6, choices=CompletionSource.choices)
    provider = models.CharField(max_length=200, blank=True)
    certificate = models.FileField(upload_to=certificate_upload_to, max_length=200, blank=True)
    certificate_name = models.CharField(max_length=200, blank=True)
    certificate_type = models.CharField(max_length=120, blank=True)
    certificate_size = models.PositiveBigIntegerField(null=True, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    # Built-in module: the SHA-256 of the Markdown exactly as shown.
    module_sha256 = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by_label = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person", "requirement", "completed_on"],
                name="training_completion_once_a_day",
            ),
            models.CheckConstraint(
                condition=Q(source__in=CompletionSource.values),
                name="training_completion_source_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "requirement", "person"], name="training_completion_req"
            ),
        ]

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("A training completion is immutable.")
        super().save(*args, **kwargs)
