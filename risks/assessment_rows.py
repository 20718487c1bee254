"""The register frozen for a risk assessment: one plain dict per risk (what ``RiskAssessment.rows``
keeps), the summary counts, the CSV, and the heat map rebuilt from the frozen rows.

Everything a later page, PDF or CSV shows comes from these dicts, never from the live register:
a risk edited or deleted after the assessment leaves the assessment as it was. The matrix is
frozen in the summary too (its size, labels and thresholds), so levels and the heat map read
the same even after the matrix changes.

Freezing takes four queries whatever the number of risks (the risks with their owners and
acceptors, the control links, the system links; the matrix is read by the caller).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from reports.rendering.exports import csv_bytes
from risks import heatmap
from risks import matrix as matrices
from risks.models import Category, Level, Risk, RiskControl, RiskMatrix, RiskSystem, Treatment
from tenants.models import Organization

LEVELS = [level.value for level in matrices.LEVEL_ORDER]
LEVEL_LABELS = {level.value: level.label for level in Level}

CSV_HEADER = [
    "Risk",
    "Category",
    "Owner",
    "Systems",
    "Inherent likelihood",
    "Inherent impact",
    "Inherent score",
    "Inherent level",
    "Residual likelihood",
    "Residual impact",
    "Residual score",
    "Residual level",
    "Treatment",
    "Accepted by",
    "Acceptance reason",
    "Accepted until",
    "Acceptance expired",
    "Controls",
    "Next review",
    "Review overdue",
]


def _email(membership: Any) -> str:
    return membership.user.email if membership is not None and membership.user_id else ""


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def freeze(org: Organization, matrix: RiskMatrix, today: dt.date) -> list[dict[str, Any]]:
    """Every risk of the register as it stands, highest residual score first (three queries)."""
    risks = list(
        Risk.objects.for_org(org)
        .select_related("owner__user", "accepted_by__user")
        .order_by("-residual_score", "-inherent_score", "title", "id")
    )
    controls: dict[int, list[str]] = defaultdict(list)
    for risk_id, code in (
        RiskControl.objects.for_org(org)
        .order_by("control__code")
        .values_list("risk_id", "control__code")
    ):
        controls[risk_id].append(code)
    systems: dict[int, list[str]] = defaultdict(list)
    for risk_id, name in (
        RiskSystem.objects.for_org(org)
        .order_by("system__name")
        .values_list("risk_id", "system__name")
    ):
        systems[risk_id].append(name)
    return [_row(risk, matrix, today, controls[risk.pk], systems[risk.pk]) for risk in risks]


def _row(
    risk: Risk, matrix: RiskMatrix, today: dt.date, controls: list[str], systems: list[str]
) -> dict[str, Any]:
    accepted = risk.treatment == Treatment.ACCEPT
    return {
        "id": risk.pk,
        "title": risk.title,
        "category": risk.category,
        "category_label": Category(risk.category).label,
        "owner": _email(risk.owner),
        "systems": systems,
        "inherent_likelihood": risk.inherent_likelihood,
        "inherent_impact": risk.inherent_impact,
        "inherent_score": risk.inherent_score,
        "inherent_level": matrices.level_of(matrix, risk.inherent_score).value,
        "residual_likelihood": risk.residual_likelihood,
        "residual_impact": risk.residual_impact,
        "residual_score": risk.residual_score,
        "residual_level": matrices.level_of(matrix, risk.residual_score).value,
        "treatment": risk.treatment,
        "treatment_label": Treatment(risk.treatment).label,
        "accepted_by": _email(risk.accepted_by) if accepted else "",
        "accepted_reason": risk.accepted_reason if accepted else "",
        "accepted_until": _iso(risk.accepted_until) if accepted else None,
        "acceptance_expired": bool(
            accepted and risk.accepted_until is not None and risk.accepted_until < today
        ),
        "controls": controls,
        "next_review_date": _iso(risk.next_review_date),
        "review_overdue": risk.next_review_date < today,
    }


def summarize(rows: list[dict[str, Any]], matrix: RiskMatrix) -> dict[str, Any]:
    """Counts per level (inherent and residual), per treatment, expired acceptances, overdue
    reviews, and the matrix the levels were read on."""
    summary: dict[str, Any] = {
        "inherent": dict.fromkeys(LEVELS, 0),
        "residual": dict.fromkeys(LEVELS, 0),
        "treatment": dict.fromkeys(Treatment.values, 0),
        "acceptances_expired": 0,
        "reviews_overdue": 0,
        "matrix": {
            "size": matrix.size,
            "likelihood_labels": list(matrix.likelihood_labels),
            "impact_labels": list(matrix.impact_labels),
            "thresholds": dict(matrix.thresholds),
        },
    }
    for row in rows:
        summary["inherent"][row["inherent_level"]] += 1
        summary["residual"][row["residual_level"]] += 1
        summary["treatment"][row["treatment"]] += 1
        summary["acceptances_expired"] += row["acceptance_expired"]
        summary["reviews_overdue"] += row["review_overdue"]
    return summary


def csv_content(rows: list[dict[str, Any]]) -> bytes:
    """The frozen register as CSV (UTF-8 with a byte order mark; formula-safe cells)."""
    return csv_bytes(
        CSV_HEADER,
        [
            [
                row["title"],
                row["category_label"],
                row["owner"],
                "; ".join(row["systems"]),
                row["inherent_likelihood"],
                row["inherent_impact"],
                row["inherent_score"],
                LEVEL_LABELS[row["inherent_level"]],
                row["residual_likelihood"],
                row["residual_impact"],
                row["residual_score"],
                LEVEL_LABELS[row["residual_level"]],
                row["treatment_label"],
                row["accepted_by"],
                row["accepted_reason"],
                row["accepted_until"] or "",
                "yes" if row["acceptance_expired"] else "",
                "; ".join(row["controls"]),
                row["next_review_date"] or "",
                "yes" if row["review_overdue"] else "",
            ]
            for row in rows
        ],
    )


def frozen_matrix(summary: dict[str, Any]) -> RiskMatrix:
    """The matrix as it was on the assessment's day (not saved: for levels and the heat map)."""
    frozen = summary.get("matrix") or {}
    return RiskMatrix(
        size=frozen.get("size", matrices.DEFAULT_SIZE),
        likelihood_labels=frozen.get("likelihood_labels", matrices.DEFAULT_LIKELIHOOD),
        impact_labels=frozen.get("impact_labels", matrices.DEFAULT_IMPACT),
        thresholds=frozen.get("thresholds", matrices.DEFAULT_THRESHOLDS),
    )


def frozen_grids(rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[heatmap.Grid]:
    """The inherent and residual heat maps of the frozen rows."""
    matrix = frozen_matrix(summary)
    inherent: dict[tuple[int, int], int] = defaultdict(int)
    residual: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        inherent[(row["inherent_likelihood"], row["inherent_impact"])] += 1
        residual[(row["residual_likelihood"], row["residual_impact"])] += 1
    return [
        heatmap.grid("inherent", "Inherent risk", matrix, dict(inherent)),
        heatmap.grid("residual", "Residual risk", matrix, dict(residual)),
    ]


def level_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's level counts as table rows: level, label, inherent, residual."""
    return [
        {
            "level": level,
            "label": LEVEL_LABELS[level],
            "inherent": summary.get("inherent", {}).get(level, 0),
            "residual": summary.get("residual", {}).get(level, 0),
        }
        for level in LEVELS
    ]


def treatment_rows(summary: dict[str, Any]) -> list[tuple[str, int]]:
    counts = summary.get("treatment", {})
    return [(label, counts.get(value, 0)) for value, label in Treatment.choices]


def display(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frozen rows with their level labels, for pages and the PDF."""
    return [
        {
            **row,
            "inherent_level_label": LEVEL_LABELS.get(row["inherent_level"], row["inherent_level"]),
            "residual_level_label": LEVEL_LABELS.get(row["residual_level"], row["residual_level"]),
        }
        for row in rows
    ]
