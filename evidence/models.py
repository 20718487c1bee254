"""Evidence attached to controls: items and their append-only versions.

A version's content (file, link or pushed data, its hash, size, type, uploader and the period
it demonstrates) never changes once written; only its review and freshness state move on.
Removal of an item is recorded, never a hard delete.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from tenants.scoping import TenantModel


def evidence_upload_to(instance: EvidenceVersion, filename: str) -> str:
    # A random key: the user's file name never reaches the storage backend.
    return f"evidence/{instance.organization_id}/{uuid.uuid4().hex}"


class EvidenceItem(TenantModel):
    control = models.ForeignKey(
        "controls.Control", on_delete=models.PROTECT, related_name="evidence_items"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removal_reason = models.TextField(blank=True)
    # Items a system writes to (``evidence.system``): which source, e.g. "monitoring:12" for
    # the runs of connection 12. Blank for items people create. One live item per control and
    # source; a removed one is replaced by a new item on the source's next write.
    system_key = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "control", "system_key"],
                condition=~Q(system_key="") & Q(removed_at__isnull=True),
                name="evidence_item_one_per_source",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "control"], name="evidence_item_org_control"),
            # The few removed items: the freshness scan's anti-join reads only these.
            models.Index(
                fields=["id"], condition=Q(removed_at__isnull=False), name="evidence_item_removed"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class EvidenceKind(models.TextChoices):
    FILE = "file", "File"
    LINK = "link", "Link"
    DATA = "data", "Data record"
    # Written by a system under a documented rule (``evidence.system``): a summary in
    # ``data``, the SHA-256 and size of the raw output it summarizes.
    SYSTEM = "system", "System-generated"


# Kinds whose content is the ``data`` JSON (downloads and exports give it as a .json file).
DATA_KINDS = (EvidenceKind.DATA, EvidenceKind.SYSTEM)


class ReviewState(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Freshness(models.TextChoices):
    FRESH = "fresh", "Current"
    EXPIRING = "expiring", "Expiring soon"
    STALE = "stale", "Stale"


class ScanState(models.TextChoices):
    """The malware scan of a file (evidence.scanning). Only ``pending`` and ``infected`` hide
    a version: they are not downloadable and not counted by readiness."""

    NOT_SCANNED = "not_scanned", "Not scanned"
    CLEAN = "clean", "Clean"
    PENDING = "pending", "Waiting for the malware scan"
    INFECTED = "infected", "Quarantined: malware found"


# What may leave the app (downloads, reports, packages, the portal, the API, PBC answers) and
# count as evidence: a clean file, or anything stored while scanning was off (links, data
# records, files without a scanner). See ``evidence.selectors.deliverable_versions``.
DELIVERABLE_SCAN_STATES = (ScanState.CLEAN, ScanState.NOT_SCANNED)
WITHHELD_REASONS = {
    ScanState.PENDING: "waiting for its malware scan",
    ScanState.INFECTED: "quarantined: the malware scan found a threat",
}


class EvidenceVersion(TenantModel):
    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=evidence_upload_to, max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    url = models.URLField(max_length=2000, blank=True)
    data = models.JSONField(null=True, blank=True)
    # The period the evidence demonstrates (a Q1 access review uploaded in April is Q1).
    effective_start = models.DateField()
    effective_end = models.DateField()
    valid_until = models.DateField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_label = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(default=timezone.now)
    review_state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Who reviewed it when that is not a person: "Integration: <connection>" for versions a
    # system accepted under its documented rule (``evidence.system``). Cleared by a person's
    # review, which records ``reviewed_by``.
    reviewed_by_label = models.CharField(max_length=200, blank=True, default="", db_default="")
    review_comment = models.TextField(blank=True)
    # System-generated versions only: what they report as failing (a test that failed on
    # some resources), in a sentence; blank when nothing failed. For Type 2 readiness the
    # period such a version falls in is an exception, not covered (``controls.readiness``).
    failure = models.CharField(max_length=500, blank=True, default="", db_default="")
    freshness = models.CharField(max_length=10, choices=Freshness.choices, default=Freshness.FRESH)
    freshness_changed_at = models.DateTimeField(default=timezone.now)
    # The freshness state the owner was last told about: a digest never repeats a state.
    notified_freshness = models.CharField(
        max_length=10, choices=Freshness.choices, default=Freshness.FRESH
    )
    # Which digest run claimed this row (see evidence.notifications): a run sends only the
    # rows it claimed itself, so two concurrent runs never mail the same change twice.
    notify_claim = models.UUIDField(null=True, blank=True, editable=False)
    # True on the item's newest version only, written by the insert of a version (see
    # ``save``) in the same transaction, so "the latest version of each item" is an indexed
    # flag rather than an anti-join over all versions (the freshness scan, the overview).
    is_latest = models.BooleanField(default=False, editable=False)
    # db_default too: raw bulk inserts (the benchmark's seeding, migrations) get a state.
    scan_state = models.CharField(
        max_length=12,
        choices=ScanState.choices,
        default=ScanState.NOT_SCANNED,
        db_default=ScanState.NOT_SCANNED,
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "item", "number"], name="version_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(effective_end__gte=F("effective_start")), name="version_period_order"
            ),
            models.CheckConstraint(
                condition=(Q(kind="file") & ~Q(file="") & ~Q(sha256=""))
                | (Q(kind="link") & ~Q(url=""))
                | (Q(kind="data") & Q(data__isnull=False))
                | (Q(kind="system") & Q(data__isnull=False) & ~Q(sha256="")),
                name="version_content_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(failure="") | Q(kind="system"), name="version_failure_is_system"
            ),
            # At most one latest version per item: a lost race fails loudly, never silently.
            models.UniqueConstraint(
                fields=["organization", "item"],
                condition=Q(is_latest=True),
                name="version_one_latest",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "review_state"], name="version_org_review"),
            models.Index(
                fields=["organization", "effective_start", "effective_end"],
                name="version_org_period",
            ),
            models.Index(fields=["organization", "notify_claim"], name="version_org_claim"),
            # The freshness scan walks the latest versions in primary-key order. No index
            # holds the freshness columns, so the scan's UPDATEs can be HOT (heap-only) on
            # PostgreSQL and skip every index; per-organization reads of the state go through
            # ``version_one_latest`` (an organization's latest versions).
            models.Index(fields=["id"], condition=Q(is_latest=True), name="version_latest_id"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"

    @property
    def is_deliverable(self) -> bool:
        """May its content leave the app (see ``DELIVERABLE_SCAN_STATES``)?"""
        return self.scan_state in DELIVERABLE_SCAN_STATES

    def save(self, *args, **kwargs) -> None:
        """A new version becomes its item's latest (unless a higher number exists already),
        clearing the previous one in the same transaction. Later saves never write the flag.

        Concurrent inserts for one item are serialized by the caller's lock on the item
        (``evidence.services._add_version``); without it, ``version_one_latest`` refuses the
        second of two racing inserts rather than leaving two latest versions.
        """
        if not self._state.adding:
            if kwargs.get("update_fields") is None:
                deferred = self.get_deferred_fields()
                kwargs["update_fields"] = [
                    f.name
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.name != "is_latest" and f.attname not in deferred
                ]
            super().save(*args, **kwargs)
            return
        siblings = EvidenceVersion._base_manager.filter(
            organization_id=self.organization_id, item_id=self.item_id
        )
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            self.is_latest = not siblings.filter(number__gt=self.number).exists()
            if self.is_latest:
                siblings.filter(is_latest=True).update(is_latest=False)
            super().save(*args, **kwargs)


class FreshnessCheckDay(models.Model):
    """A day whose system-wide freshness check finished (not tenant data: one row a day).

    Beat sends the check at ``EVIDENCE_CHECK_HOUR``; if the broker was down then, the hourly
    catch-up (``evidence.tasks.check_freshness_catch_up``) sends it later the same day.
    """

    day = models.DateField(unique=True)
    finished_at = models.DateTimeField(default=timezone.now)
    changed = models.PositiveIntegerField(default=0)
    digests = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"freshness check of {self.day}"


class EvidenceDigest(TenantModel):
    """One digest e-mail, in the outbox until the mail server accepted it.

    Written with the changes it tells of, in the transaction that marks them told
    (``evidence.notifications.digests_send``), so a change is never marked without its mail
    being kept. A sender claims unsent rows (``claim_token``, ``claimed_until``), sends, and
    sets ``sent_at`` only once the server accepted the message; a sender killed mid-send leaves
    its claim to run out, then the hourly retry sends the row. At least once, never none.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # The versions it tells of (ids), for tracing a mail back to its rows.
    versions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The senders look for unsent rows only (a few), across organizations for the retry.
            models.Index(
                fields=["organization", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="digest_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"digest to {self.email} ({'sent' if self.sent_at else 'unsent'})"


class DigestMark(TenantModel):
    """How far a dated digest section (``register_digest_section`` with ``claim_dated``) has
    told an organization: the news of every day up to ``told_through``, and of the rows
    created before ``told_at``. One row per organization and section, claimed with the
    digest's transaction (``evidence.notifications.section_window``), so two runs never tell
    the same day and a rolled-back digest tells it again."""

    section = models.CharField(max_length=40)
    told_through = models.DateField()
    told_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "section"], name="digest_mark_one_per_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section} told through {self.told_through}"
