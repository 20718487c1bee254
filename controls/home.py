"""The compliance manager's program on the home page: each open audit with its readiness,
its change since last week as a small trend line, its next date, and which of the five
wizard steps it has done (with a link to the next one).

Readiness comes from the daily snapshots (``controls.tasks.snapshot_readiness``), not from
``controls.readiness.audit_readiness``: the engine reads every control, mapping and evidence
version of an audit, and running it per audit on every home load would make the home cost
grow with the program. The latest snapshot is at most a day old, which is what a home page
needs; the audit's dashboard shows the live figure. An audit without a snapshot yet (planned
today) says so and links to its dashboard. Two queries whatever the number of audits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from controls.models import (
    Audit,
    AuditCategory,
    AuditStatus,
    AuditSystem,
    Control,
    ControlCriterion,
    ControlStatus,
    ReadinessSnapshot,
    SelfAssessmentAnswer,
)

TREND_DAYS = 28  # the trend line's span
WEEK = dt.timedelta(days=7)
SPARK_WIDTH, SPARK_HEIGHT = 120, 32


@dataclass(frozen=True)
class JourneyStep:
    key: str  # the wizard step (``controls.views_audits.STEPS``)
    label: str
    done: bool
    url: str


@dataclass
class AuditProgram:
    audit: Audit
    steps: list[JourneyStep]
    score: Decimal | None = None  # the latest snapshot's
    measured_on: dt.date | None = None
    change: Decimal | None = None  # since the newest snapshot a week or more older
    points: str = ""  # the SVG polyline's points
    next_date: tuple[str, dt.date] | None = None
    scores: list[Decimal] = field(default_factory=list)

    @property
    def next_step(self) -> JourneyStep | None:
        return next((s for s in self.steps if not s.done), None)

    @property
    def end(self) -> tuple[str, str]:
        """The trend line's last point (today's figure), drawn as a dot."""
        x, y = self.points.rsplit(" ", 1)[-1].split(",")
        return x, y

    @property
    def done_count(self) -> int:
        return sum(s.done for s in self.steps)


def _scoped_controls(org_id: int) -> Exists:
    """A control is adopted for a criterion of the audit's scope (its chosen categories, or
    the categories always in scope such as Security)."""
    chosen = (
        AuditCategory.objects.for_org(org_id)
        .filter(audit_id=OuterRef(OuterRef("pk")))
        .values("category_id")
    )
    return Exists(
        ControlCriterion.objects.for_org(org_id).filter(
            Q(criterion__category__always_in_scope=True) | Q(criterion__category_id__in=chosen)
        )
    )


def _audits(org_id: int) -> list[Audit]:
    """Open audits, each flagged with the wizard steps it has done: one query."""
    return list(
        Audit.objects.for_org(org_id)
        .exclude(status=AuditStatus.COMPLETED)
        .annotate(
            has_scope=Exists(AuditCategory.objects.for_org(org_id).filter(audit_id=OuterRef("pk")))
            | Exists(AuditSystem.objects.for_org(org_id).filter(audit_id=OuterRef("pk"))),
            has_assessment=Exists(
                SelfAssessmentAnswer.objects.for_org(org_id).filter(audit_id=OuterRef("pk"))
            ),
            has_controls=_scoped_controls(org_id),
        )
        .order_by("created_at", "pk")
    )


def _steps(slug: str, audit: Audit) -> list[JourneyStep]:
    def url(step: str) -> str:
        return reverse("audit_step", kwargs={"org_slug": slug, "pk": audit.pk, "step": step})

    return [
        # The audit exists, so its type and dates were saved (the form requires them).
        JourneyStep("basics", "Type and dates", True, url("basics")),
        JourneyStep("scope", "Categories and systems", audit.has_scope, url("scope")),
        JourneyStep("assessment", "Self-assessment", audit.has_assessment, url("assessment")),
        JourneyStep("controls", "Controls adopted", audit.has_controls, url("controls")),
        JourneyStep(
            "firm",
            "CPA firm and fieldwork",
            bool(audit.cpa_firm and audit.fieldwork_start),
            url("firm"),
        ),
    ]


def _next_date(audit: Audit, today: dt.date) -> tuple[str, dt.date] | None:
    dates = [
        ("Window ends", audit.window_end),
        ("Point in time", audit.as_of_date),
        ("Fieldwork starts", audit.fieldwork_start),
        ("Fieldwork ends", audit.fieldwork_end),
    ]
    upcoming = sorted((d, label) for label, d in dates if d and d >= today)
    return (upcoming[0][1], upcoming[0][0]) if upcoming else None


MIN_SPAN = Decimal(10)  # points of score the line's height stands for, at least


def sparkline(scores: list[Decimal]) -> str:
    """The points of a polyline of ``scores`` in a SPARK_WIDTH × SPARK_HEIGHT box. The
    height spans the series' own range (at least MIN_SPAN points, centred), so a change of a
    point or two is visible; the figures beside it give the absolute level."""
    if not scores:
        return ""
    if len(scores) == 1:
        scores = scores * 2  # a flat line rather than a lone point
    lo, hi = min(scores), max(scores)
    span = max(hi - lo, MIN_SPAN)
    base = lo - (span - (hi - lo)) / 2
    step = SPARK_WIDTH / (len(scores) - 1)
    usable = SPARK_HEIGHT - 4  # 2 px margin so the stroke is not clipped
    return " ".join(
        f"{i * step:.1f},{2 + usable * (1 - float((s - base) / span)):.1f}"
        for i, s in enumerate(scores)
    )


def program(org_id: int, slug: str, today: dt.date) -> list[AuditProgram]:
    """Two queries: the open audits, and their snapshots of the last TREND_DAYS days."""
    audits = _audits(org_id)
    snapshots: dict[int, list[ReadinessSnapshot]] = {a.pk: [] for a in audits}
    for snap in (
        ReadinessSnapshot.objects.for_org(org_id)
        .filter(audit_id__in=list(snapshots), taken_on__gte=today - dt.timedelta(days=TREND_DAYS))
        .only("audit_id", "taken_on", "score")
        .order_by("taken_on")
    ):
        snapshots[snap.audit_id].append(snap)
    rows = []
    for audit in audits:
        row = AuditProgram(audit=audit, steps=_steps(slug, audit))
        row.next_date = _next_date(audit, today)
        series = snapshots[audit.pk]
        if series:
            latest = series[-1]
            row.score, row.measured_on = latest.score, latest.taken_on
            row.scores = [s.score for s in series]
            row.points = sparkline(row.scores)
            before = [s for s in series if s.taken_on <= latest.taken_on - WEEK]
            if before:
                row.change = latest.score - before[-1].score
        rows.append(row)
    return rows


def overdue_controls_by_owner(org_id: int, today: dt.date) -> dict[str, int]:
    """Unfinished controls past their due date, counted per owner's email ("" = nobody):
    one query."""
    counts = (
        Control.objects.for_org(org_id)
        .filter(
            due_date__lt=today,
            status__in=(ControlStatus.NOT_STARTED, ControlStatus.IN_PROGRESS),
        )
        .values("owner__user__email")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["owner__user__email"] or "": row["n"] for row in counts}


__all__ = ["AuditProgram", "JourneyStep", "overdue_controls_by_owner", "program", "sparkline"]
