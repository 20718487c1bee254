"""The readiness PDF's appendices (CC3 and CC9.2): the risk register and the vendor list, read
with the report's content so the PDF shows them as of the same moment.

- "Risk register": the heat maps (inherent and residual, ``risks.heatmap``), the number of
  risks at each level, the risks with the highest residual scores (treatment, owner, next
  review) and the latest risk assessment with when the next one is due.
- "Vendors": every vendor with its criticality, whether it is a subprocessor, its document
  status (``vendors.selectors.vendor_rows``: the list's own logic), its last and next review.

Each appendix is ``None`` when the organization has nothing for it (no empty appendix). A fixed
number of queries whatever the size: risks 5 (count, matrix, heat counts, top risks with their
owners, latest assessment), vendors 2 (the list's aggregate, the last reviews).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Max

from risks import heatmap
from risks import matrix as matrices
from risks.models import Risk, RiskAssessment, RiskMatrix
from tenants.models import Organization
from vendors.models import VendorReview
from vendors.selectors import VendorRow, vendor_rows

TOP_RISKS = 20


@dataclass(frozen=True)
class RiskLine:
    title: str
    category: str
    inherent: int
    residual: int
    level: str
    treatment: str
    owner: str
    next_review: dt.date
    review_overdue: bool
    acceptance_expired: bool


@dataclass(frozen=True)
class RiskAppendix:
    total: int
    matrix_size: int
    grids: list[heatmap.Grid]
    # (level label, colour, inherent count, residual count), lowest level first
    levels: list[tuple[str, str, int, int]]
    top: list[RiskLine]
    last_assessment: dt.date | None
    next_due: dt.date | None
    assessment_overdue: bool


@dataclass(frozen=True)
class VendorLine:
    name: str
    criticality: str
    subprocessor: bool
    status: str
    status_key: str
    stale_kinds: list[str]
    last_review: dt.date | None
    next_review: dt.date | None
    review_overdue: bool


@dataclass(frozen=True)
class VendorAppendix:
    lines: list[VendorLine] = field(default_factory=list)

    @property
    def attention(self) -> int:
        return sum(1 for v in self.lines if v.status_key in ("stale", "missing_soc2"))

    @property
    def overdue(self) -> int:
        return sum(1 for v in self.lines if v.review_overdue)


def _level_counts(
    matrix: RiskMatrix, inherent: dict[tuple[int, int], int], residual: dict[tuple[int, int], int]
) -> list[tuple[str, str, int, int]]:
    def per_level(counts: dict[tuple[int, int], int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for (likelihood, impact), n in counts.items():
            level = matrices.level_of(matrix, likelihood * impact)
            out[level] = out.get(level, 0) + n
        return out

    one, two = per_level(inherent), per_level(residual)
    return [
        (lv.label, matrices.LEVEL_COLOURS[lv], one.get(lv, 0), two.get(lv, 0))
        for lv in matrices.LEVEL_ORDER
    ]


def risk_appendix(org: Organization, today: dt.date) -> RiskAppendix | None:
    risks = Risk.objects.for_org(org)
    total = risks.count()
    if not total:
        return None
    # Risks exist, so the matrix was created with them (read, never created by a report).
    matrix = RiskMatrix.objects.for_org(org).first() or RiskMatrix(
        size=matrices.DEFAULT_SIZE, thresholds=dict(matrices.DEFAULT_THRESHOLDS)
    )
    from risks.selectors import acceptance_expired, heat_counts

    inherent, residual = heat_counts(org)
    top = [
        RiskLine(
            title=r.title,
            category=r.get_category_display(),
            inherent=r.inherent_score,
            residual=r.residual_score,
            level=matrices.level_of(matrix, r.residual_score).label,
            treatment=r.get_treatment_display(),
            owner=r.owner.user.email if r.owner_id and r.owner.user.email else "",
            next_review=r.next_review_date,
            review_overdue=r.next_review_date < today,
            acceptance_expired=acceptance_expired(r, today),
        )
        for r in risks.select_related("owner__user").order_by("-residual_score", "title", "id")[
            :TOP_RISKS
        ]
    ]
    latest = RiskAssessment.objects.for_org(org).order_by("-performed_on", "-id").first()
    # Due by the organization's interval as it stands (a shorter one applies at once).
    due = (
        latest.performed_on + dt.timedelta(days=matrix.assessment_interval_days) if latest else None
    )
    return RiskAppendix(
        total=total,
        matrix_size=matrix.size,
        grids=[
            heatmap.grid("inherent", "Inherent risk", matrix, inherent),
            heatmap.grid("residual", "Residual risk", matrix, residual),
        ],
        levels=_level_counts(matrix, inherent, residual),
        top=top,
        last_assessment=latest.performed_on if latest else None,
        next_due=due,
        assessment_overdue=due is None or due < today,
    )


def _vendor_line(row: VendorRow, last_review: dt.date | None) -> VendorLine:
    vendor = row.vendor
    return VendorLine(
        name=vendor.name,
        criticality=vendor.get_criticality_display(),
        subprocessor=vendor.is_subprocessor,
        status=row.status_label,
        status_key=row.status,
        stale_kinds=row.stale_kinds,
        last_review=last_review,
        next_review=vendor.next_review_date,
        review_overdue=row.review_overdue,
    )


def vendor_appendix(org: Organization, today: dt.date) -> VendorAppendix | None:
    rows = vendor_rows(org, today)
    if not rows:
        return None
    last = dict(
        VendorReview.objects.for_org(org)
        .values("vendor_id")
        .annotate(last=Max("reviewed_on"))
        .order_by()
        .values_list("vendor_id", "last")
    )
    return VendorAppendix([_vendor_line(row, last.get(row.vendor.pk)) for row in rows])
