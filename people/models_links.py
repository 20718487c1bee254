"""The abstract halves of what policies and training share: an assignment (to everyone, a
department or one person) and a personal link (one person, an expiring single-use token of
which only the SHA-256 is stored). Each app's concrete models add what they are about (the
policy, the version, the requirement and cycle) and their own constraint names."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class AssignmentTarget(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    DEPARTMENT = "department", "A department"
    PERSON = "person", "One person"


def target_consistent() -> Q:
    """The check constraint's condition: a department only for a department, a person only
    for a person."""
    return (
        (Q(target="everyone") & Q(department="") & Q(person__isnull=True))
        | (Q(target="department") & ~Q(department="") & Q(person__isnull=True))
        | (Q(target="person") & Q(department="") & Q(person__isnull=False))
    )


class AssignmentBase(TenantModel):
    target = models.CharField(max_length=10, choices=AssignmentTarget.choices)
    department = models.CharField(max_length=120, blank=True)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["target", "department", "id"]


class PersonalLinkBase(TenantModel):
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # Reminders sent (each with a new token: the old one is not kept to be sent again).
    reminders = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
