"""Joiners' and leavers' checklists.

* ``ChecklistTemplate``: what happens when someone joins (*onboarding*: background check, NDA
  signed, policies accepted, training done, accounts granted) or leaves (*offboarding*:
  accounts revoked, equipment returned). One template per kind per organization.
* ``ChecklistTemplateItem``: one step, with an owner (a member), a due date relative to the
  start or end date (``due_days``, in calendar or business days; negative = before), the
  control whose operation it evidences (optional) and whether evidence must be attached.
* ``Checklist``: opened for a person when they start (onboarding) or when their end date is
  recorded (offboarding): a copy of the template's items at that moment, due dates computed
  from the person's date (``anchor_date``). Moving the date moves open items' due dates.
* ``ChecklistItem``: done (when, by whom, a note, optional evidence) or not; done after its
  due date, or still open after it, it is *late*: an exception for its control in the period
  of its due date (recorded as a failing system-generated evidence version on the control).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class ChecklistKind(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    OFFBOARDING = "offboarding", "Offboarding"


class ChecklistTemplate(TenantModel):
    kind = models.CharField(max_length=12, choices=ChecklistKind.choices)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind"], name="checklist_template_one_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ChecklistKind.values), name="checklist_template_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ChecklistTemplateItem(TenantModel):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Due this many days after the start (onboarding) or end (offboarding) date; negative
    # means before it. Business days skip Saturdays and Sundays.
    due_days = models.SmallIntegerField(default=0)
    business_days = models.BooleanField(default=False)
    control = models.ForeignKey(
        "controls.Control", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_days__gte=-90, due_days__lte=365),
                name="checklist_template_item_due_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Checklist(TenantModel):
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=ChecklistKind.choices)
    # The person's start date (onboarding) or end date (offboarding) the due dates follow.
    anchor_date = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    # Set when the last item is done; cleared if an item is reopened.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-anchor_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person", "kind"], name="checklist_one_per_person_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ChecklistKind.values), name="checklist_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "anchor_date"], name="checklist_org_anchor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.person}"


class ChecklistItem(TenantModel):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied from the template item when the checklist opened (the template may change).
    due_days = models.SmallIntegerField(default=0)
    business_days = models.BooleanField(default=False)
    due_date = models.DateField()
    control = models.ForeignKey(
        "controls.Control", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_required = models.BooleanField(default=False)
    done_on = models.DateField(null=True, blank=True)  # the day it was done (may be earlier)
    done_at = models.DateTimeField(null=True, blank=True)  # when it was recorded
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_by_label = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # Optional evidence: a version on the item's control (uploaded through the evidence rules).
    evidence = models.ForeignKey(
        "evidence.EvidenceVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the daily run has recorded the item as late while still open (once).
    overdue_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_on__isnull=True, done_at__isnull=True)
                | Q(done_on__isnull=False, done_at__isnull=False),
                name="checklist_item_done_both",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "owner", "done_at"], name="checklist_item_owner"),
            models.Index(fields=["organization", "due_date"], name="checklist_item_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_on is not None

    @property
    def done_late(self) -> bool:
        return self.done_on is not None and self.done_on > self.due_date

    def is_overdue(self, today) -> bool:  # noqa: ANN001
        return self.done_on is None and today > self.due_date
