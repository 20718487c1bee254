"""Continuous monitoring: connections to outside systems, their checks, runs, per-resource
results and the findings a failing check opens.

A *connection* is where results come from (pushed custom tests today; AWS through Prowler and
GitHub plug in as other kinds). Each run of a connection records one *result* per check and
resource; ``monitoring.services.ingest`` turns results into *findings*: a failing resource
opens one (owned by the first mapped control's owner, due by severity), a passing one closes
it, and a failure after a close opens a new finding marked as a regression.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from soc2app.fields import EncryptedTextField
from tenants.scoping import TenantModel


class ConnectionKind(models.TextChoices):
    CUSTOM = "custom", "Your own tests (pushed through the API)"
    AWS = "aws", "AWS (Prowler)"
    GITHUB = "github", "GitHub organization"


class Schedule(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MANUAL = "manual", "Only when pushed or started by hand"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


# Most severe first: list pages sort by this rank.
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


class Connection(TenantModel):
    kind = models.CharField(max_length=10, choices=ConnectionKind.choices)
    name = models.CharField(max_length=120)
    systems = models.ManyToManyField(
        "controls.System", through="ConnectionSystem", related_name="+", blank=True
    )
    # Read back by the collectors, so encrypted rather than hashed; never shown again.
    credentials = EncryptedTextField(blank=True, default="")
    # Settings that are not secret, per kind (AWS: regions and services; GitHub: the
    # organization's login and the API's address); shown and editable.
    config = models.JSONField(default=dict, blank=True)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.DAILY)
    # When the schedule next starts a run (null: never ran, or manual).
    next_run_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="connection_unique_name"),
            models.CheckConstraint(
                condition=Q(kind__in=ConnectionKind.values), name="connection_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials and self.credentials.reveal())


class ConnectionSystem(TenantModel):
    """A system in scope that a connection's checks look at."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey("controls.System", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection", "system"], name="connection_system_unique"
            )
        ]


class Check(TenantModel):
    """One test a connection runs (``key`` is the collector's own name for it)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="checks")
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    # Trust Services Criteria refs as given ("CC6.1"); the controls are resolved from them and
    # from the codes given, in the organization (``CheckControl``).
    criteria = models.JSONField(default=list, blank=True)
    controls = models.ManyToManyField(
        "controls.Control", through="CheckControl", related_name="monitoring_checks", blank=True
    )
    # The latest run's outcome: "failing" when any resource failed (a list page sorts on it).
    failing = models.BooleanField(default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # What the owners' digest last told of ``failing`` (``monitoring.notify``): a check whose
    # value differs started failing or recovered since; ``notify_claim`` is the digest run that
    # told it (read back by its token).
    notified_failing = models.BooleanField(default=False)
    notify_claim = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection", "key"], name="check_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="check_severity_valid"
            ),
        ]
        indexes = [models.Index(fields=["organization", "failing"], name="check_org_failing")]

    def __str__(self) -> str:
        return self.title


class CheckControl(TenantModel):
    """A control a check tests; ``position`` keeps the order given (the first one's owner owns
    the check's findings)."""

    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="+")
    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "check_ref", "control"], name="check_control_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "control"], name="check_control_org_ctl")]


class RunSource(models.TextChoices):
    PUSH = "push", "Pushed through the API"
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Started by hand"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


def run_output_upload_to(instance: CheckRun, filename: str) -> str:
    # A random key: nothing user-controlled reaches the storage backend.
    return f"monitoring/{instance.organization_id}/{uuid.uuid4().hex}"


class CheckRun(TenantModel):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=10, choices=RunSource.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    started_by_label = models.CharField(max_length=200, blank=True)
    # A run started by the schedule or by hand: what the worker is doing now, how many times
    # a worker took it (a redelivery after a worker died adds one), and which worker holds it.
    progress = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # The collector's raw output (a push: the request's JSON), stored once like an evidence file.
    output = models.FileField(upload_to=run_output_upload_to, max_length=200, blank=True)
    output_name = models.CharField(max_length=120, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True)
    output_size = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One run at a time per connection: a second start finds this one instead.
            models.UniqueConstraint(
                fields=["organization", "connection"],
                condition=Q(status__in=["queued", "running"]),
                name="run_one_active",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "connection", "-started_at"], name="run_org_conn")
        ]


class ResultStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"


class CheckResult(TenantModel):
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="results")
    resource_id = models.CharField(max_length=500)
    resource_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=5, choices=ResultStatus.choices)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ResultStatus.values), name="result_status_valid"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "check_ref", "-created_at"], name="result_org_chk")
        ]


class FindingState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Finding(TenantModel):
    """A resource failing a check, from the first failure until it passes again."""

    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="findings")
    resource_id = models.CharField(max_length=500)
    resource_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=6, choices=FindingState.choices, default=FindingState.OPEN)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    due_date = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    regression = models.BooleanField(default=False)
    opened_by_run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by_run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the daily sweep announced it overdue (``finding.overdue``, once per finding), and
    # the digest run that told its owner (``monitoring.notify``).
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    notify_claim = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # At most one open finding per check and resource.
            models.UniqueConstraint(
                fields=["organization", "check_ref", "resource_id"],
                condition=Q(state="open"),
                name="finding_one_open",
            ),
            models.CheckConstraint(
                condition=Q(state__in=FindingState.values), name="finding_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True)
                | Q(state="closed", closed_at__isnull=False),
                name="finding_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "state", "owner"], name="finding_org_state_own"),
            models.Index(
                fields=["organization", "check_ref", "resource_id"], name="finding_org_res"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.check_ref_id}: {self.resource_id}"

    @property
    def is_open(self) -> bool:
        return self.state == FindingState.OPEN
