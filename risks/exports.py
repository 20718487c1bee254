"""The risk register as a table (CSV or XLSX through ``reports.tabular``): every risk matching
the register's filters, highest residual score first, with its scores and levels on the
organization's matrix, treatment, acceptance, linked controls and systems. Four queries
whatever the number of risks (the matrix, the risks with owners, their controls, their
systems)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch

from controls.models import System
from reports.tabular import Table
from risks import matrix as matrices
from risks import selectors
from risks.models import Risk, RiskMatrix
from risks.selectors import RegisterFilter
from tenants.models import Organization

HEADER = [
    "ID",
    "Title",
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
    "Controls",
    "Accepted by",
    "Acceptance reason",
    "Accepted until",
    "Acceptance expired",
    "Next review",
    "Review overdue",
    "Description",
]


def _email(membership: object) -> str:
    return membership.user.email if membership is not None else ""


def _row(risk: Risk, matrix: RiskMatrix, today: dt.date) -> list[object]:
    return [
        risk.pk,
        risk.title,
        risk.get_category_display(),
        _email(risk.owner),
        ", ".join(s.name for s in risk.systems.all()),
        risk.inherent_likelihood,
        risk.inherent_impact,
        risk.inherent_score,
        matrices.level_of(matrix, risk.inherent_score).label,
        risk.residual_likelihood,
        risk.residual_impact,
        risk.residual_score,
        matrices.level_of(matrix, risk.residual_score).label,
        risk.get_treatment_display(),
        ", ".join(c.code for c in risk.controls.all()),
        _email(risk.accepted_by),
        risk.accepted_reason,
        risk.accepted_until,
        selectors.acceptance_expired(risk, today),
        risk.next_review_date,
        risk.next_review_date < today,
        risk.description,
    ]


def register_table(org: Organization, filters: RegisterFilter | None, today: dt.date) -> Table:
    matrix = matrices.matrix_read(org)
    risks = selectors.risks_list(org, matrix, filters).prefetch_related(
        Prefetch("systems", queryset=System.objects.for_org(org).order_by("name"))
    )
    return Table("Risk register", HEADER, [_row(r, matrix, today) for r in risks])


def filename(org: Organization, today: dt.date) -> str:
    return f"risk-register-{org.slug}-{today:%Y%m%d}"
