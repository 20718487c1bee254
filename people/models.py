"""People in scope: the organization's roster (not all of them use the app).

The roster is where joiners and leavers come from (start and end dates), whom policies and
training are assigned to (everyone, departments, people), and whose acceptances are recorded.
A person may be linked to a member of the app (``membership``), who can then accept in the
app as well as through a link.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class EmploymentType(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    CONTRACTOR = "contractor", "Contractor"
    INTERN = "intern", "Intern"


class Person(TenantModel):
    full_name = models.CharField(max_length=200)
    # Stored lower-case: one person per address in an organization.
    email = models.EmailField(max_length=254)
    title = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=120, blank=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    employment_type = models.CharField(
        max_length=12, choices=EmploymentType.choices, default=EmploymentType.EMPLOYEE
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    membership = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # After the retention period a leaver's name and address are replaced; their acceptance
    # records keep their hashes.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="person_unique_email"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="person_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(employment_type__in=EmploymentType.values),
                name="person_employment_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "department"], name="person_org_department"),
            models.Index(fields=["organization", "start_date"], name="person_org_start"),
            models.Index(fields=["organization", "end_date"], name="person_org_end"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


# The checklist models live in their own module; the app registry finds them through here.
from people.models_checklists import (  # noqa: E402
    Checklist,
    ChecklistItem,
    ChecklistKind,
    ChecklistTemplate,
    ChecklistTemplateItem,
)

__all__ = [
    "Checklist",
    "ChecklistItem",
    "ChecklistKind",
    "ChecklistTemplate",
    "ChecklistTemplateItem",
    "EmploymentType",
    "Person",
]
