"""Populations and samples of a Type 2 audit (imported by ``reports.models``).

A *population* is the list of a control's occurrences in the observation window (id, date,
description), built from its evidence versions, uploaded as CSV or pushed through the API. It is
never edited: a correction is a new version. Its SHA-256 is the hash of its canonical form
(``reports.sampling.canonical_csv``), which is exactly what its export downloads. It is frozen
(``frozen_at``) when a sample is first drawn from it.

A *sample* is a draw from one population: seeded (items ordered by HMAC-SHA256(seed, id), the
first ``size`` taken) or chosen by hand. Each of its items is linked to a request for
information (PBC) and carries the auditor's test result.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class PopulationSource(models.TextChoices):
    CSV = "csv", "Uploaded CSV"
    EVIDENCE = "evidence", "Built from evidence versions"
    API = "api", "Pushed through the API"
    # A ready-made population another app offers (``reports.population_sources``).
    BUILT = "built", "Built from the app's records"


class Population(TenantModel):
    audit = models.ForeignKey(
        "controls.Audit", on_delete=models.CASCADE, related_name="populations"
    )
    control = models.ForeignKey("controls.Control", on_delete=models.PROTECT, related_name="+")
    # 1, 2, ... per audit and control: a corrected population is the next version.
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=PopulationSource.choices)
    source_name = models.CharField(max_length=200, blank=True)  # the uploaded file's name
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    supplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    supplied_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["control__code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "audit", "control", "version"],
                name="population_version_unique",
            ),
            models.CheckConstraint(
                condition=Q(source__in=PopulationSource.values), name="population_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "audit", "control"], name="population_org_audit"),
        ]

    def __str__(self) -> str:
        return f"Population v{self.version} of control {self.control_id}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class PopulationItem(TenantModel):
    # No index of its own: the unique (organization, population, item_id) serves every lookup,
    # and one index fewer to maintain matters when 100,000 rows arrive at once.
    population = models.ForeignKey(
        Population, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    item_id = models.CharField(max_length=100)
    date = models.DateField()
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "population", "item_id"], name="population_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.item_id


class SampleMethod(models.TextChoices):
    SEEDED = "seeded", "Seeded (HMAC-SHA256 order)"
    MANUAL = "manual", "Chosen by hand"


class Sample(TenantModel):
    population = models.ForeignKey(Population, on_delete=models.PROTECT, related_name="samples")
    audit = models.ForeignKey("controls.Audit", on_delete=models.CASCADE, related_name="+")
    control = models.ForeignKey("controls.Control", on_delete=models.PROTECT, related_name="+")
    # 1, 2, ... per population: a later draw replaces the earlier one (which stays, read-only).
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    suggested_size = models.PositiveIntegerField()
    size_reason = models.TextField(blank=True)  # required when size != suggested_size
    redraw_reason = models.TextField(blank=True)  # required from the second draw on
    method = models.CharField(max_length=8, choices=SampleMethod.choices)
    seed = models.CharField(max_length=64, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    drawn_by_label = models.CharField(max_length=200)
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "population", "number"], name="sample_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(method__in=SampleMethod.values), name="sample_method_valid"
            ),
            models.CheckConstraint(
                condition=~Q(method="seeded") | ~Q(seed=""), name="sample_seeded_has_seed"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="sample_size_positive"),
        ]
        indexes = [
            models.Index(fields=["organization", "audit", "control"], name="sample_org_audit"),
        ]

    def __str__(self) -> str:
        return f"Sample {self.number} of population {self.population_id}"


class SampleResult(models.TextChoices):
    NONE = "none", "Not tested"
    NO_EXCEPTION = "no_exception", "No exception"
    EXCEPTION = "exception", "Exception"


class SampleItem(TenantModel):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="items")
    population_item = models.ForeignKey(PopulationItem, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField()  # 1 = first in the draw order
    request = models.ForeignKey(
        "reports.InfoRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(
        max_length=14, choices=SampleResult.choices, default=SampleResult.NONE
    )
    note = models.TextField(blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    tested_by_label = models.CharField(max_length=200, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sample", "population_item"], name="sample_item_unique"
            ),
            models.CheckConstraint(
                condition=Q(result__in=SampleResult.values), name="sample_item_result_valid"
            ),
            models.CheckConstraint(
                condition=~Q(result="exception") | ~Q(note=""), name="sample_exception_has_note"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "sample", "rank"], name="sample_item_org_rank"),
        ]

    def __str__(self) -> str:
        return f"Item {self.rank} of sample {self.sample_id}"
