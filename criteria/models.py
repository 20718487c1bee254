"""The framework catalog: global, read-only reference data shared by every organization.

Loaded from the YAML files in ``criteria/data/`` by ``load_catalog``; never typed by users.
A new version of a framework is a new ``Framework`` row beside the old one, so tenant
mappings to the old criteria keep working.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Framework(models.Model):
    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    source_file = models.CharField(max_length=200)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "version"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Category(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="categories")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)
    description = models.TextField()
    always_in_scope = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "key"], name="category_unique_key")
        ]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Series(models.Model):
    """A numbered group of criteria within a category (CC1 Control Environment, P4, ...)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="series")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="series")
    key = models.CharField(max_length=10)
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "key"], name="series_unique_key")
        ]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.key} {self.name}"


class Criterion(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="criteria")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="criteria")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="criteria")
    ref = models.CharField(max_length=12)
    title = models.CharField(max_length=200)
    description = models.TextField()
    coso_principle = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "ref"], name="criterion_unique_ref"),
            models.CheckConstraint(
                condition=models.Q(coso_principle__isnull=True)
                | models.Q(coso_principle__gte=1, coso_principle__lte=17),
                name="criterion_coso_1_17",
            ),
        ]
        verbose_name_plural = "criteria"

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class PointOfFocus(models.Model):
    criterion = models.ForeignKey(
        Criterion, on_delete=models.CASCADE, related_name="points_of_focus"
    )
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["criterion_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "position"], name="pof_unique_position")
        ]
        verbose_name_plural = "points of focus"

    def __str__(self) -> str:
        return self.text


class ExternalFramework(models.Model):
    """Another framework the criteria are crosswalked to (ISO/IEC 27001, NIST CSF, ...)."""

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExternalReference(models.Model):
    framework = models.ForeignKey(
        ExternalFramework, on_delete=models.CASCADE, related_name="references"
    )
    ref_id = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    criteria = models.ManyToManyField(Criterion, through="CrosswalkMapping", related_name="+")

    class Meta:
        ordering = ["framework_id", "ref_id"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "ref_id"], name="extref_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.title}"


class CrosswalkMapping(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="crosswalks")
    reference = models.ForeignKey(
        ExternalReference, on_delete=models.CASCADE, related_name="mappings"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["criterion", "reference"], name="crosswalk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id} -> {self.reference_id}"
