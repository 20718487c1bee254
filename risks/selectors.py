"""Reads of the risk register: the filtered list, one risk, the heat map's counts, the
acceptances past their date. Each runs in a constant number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from controls.models import Control, System
from risks import matrix as matrices
from risks.library import LibraryRisk, library
from risks.models import Level, Risk, RiskMatrix, Treatment
from soc2app.errors import NotFound
from tenants.models import Membership, Organization, Role

MANAGER_ROLES = (Role.OWNER, Role.ADMIN, Role.COMPLIANCE_MANAGER)


@dataclass(frozen=True)
class RegisterFilter:
    owner: int | None = None
    treatment: str = ""
    level: str = ""
    # Risks scored beyond a matrix of this size (what blocks shrinking the matrix to it).
    beyond: int | None = None


def risks_list(
    org: Organization, matrix: RiskMatrix, filters: RegisterFilter | None = None
) -> QuerySet[Risk]:
    """The register with owners and linked controls (two queries once evaluated; one more
    per page for the count). ``level`` filters on the residual score."""
    rows = Risk.objects.for_org(org).select_related("owner__user", "accepted_by__user")
    rows = rows.prefetch_related(
        Prefetch("controls", queryset=Control.objects.for_org(org).only("id", "code", "title"))
    )
    filters = filters or RegisterFilter()
    if filters.owner:
        rows = rows.filter(owner_id=filters.owner)
    if filters.treatment:
        rows = rows.filter(treatment=filters.treatment)
    if filters.level:
        low, high = matrices.score_range(matrix, Level(filters.level))
        rows = rows.filter(residual_score__gte=low, residual_score__lte=high)
    if filters.beyond:
        rows = rows.filter(beyond_filter(filters.beyond))
    return rows


def beyond_filter(size: int) -> Q:
    """Risks scored beyond a ``size``x``size`` matrix (any of their four coordinates)."""
    return (
        Q(inherent_likelihood__gt=size)
        | Q(inherent_impact__gt=size)
        | Q(residual_likelihood__gt=size)
        | Q(residual_impact__gt=size)
    )


def risk_get(org: Organization, pk: object) -> Risk:
    text = str(pk)
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise NotFound("No such risk.")
    risk = (
        Risk.objects.for_org(org)
        .select_related("owner__user", "accepted_by__user")
        .prefetch_related(
            Prefetch("controls", queryset=Control.objects.for_org(org).order_by("code")),
            Prefetch("systems", queryset=System.objects.for_org(org).order_by("name")),
        )
        .filter(pk=int(text))
        .first()
    )
    if risk is None:
        raise NotFound("No such risk.")
    return risk


def acceptance_expired(risk: Risk, today: dt.date) -> bool:
    return (
        risk.treatment == Treatment.ACCEPT
        and risk.accepted_until is not None
        and risk.accepted_until < today
    )


def expired_acceptances(org: Organization, today: dt.date) -> QuerySet[Risk]:
    """Accepted risks whose acceptance ended before ``today``: to be reviewed again."""
    return Risk.objects.for_org(org).filter(treatment=Treatment.ACCEPT, accepted_until__lt=today)


def heat_counts(org: Organization) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Risks per (likelihood, impact) cell, inherent and residual: one query."""
    inherent: dict[tuple[int, int], int] = {}
    residual: dict[tuple[int, int], int] = {}
    fields = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
    rows = Risk.objects.for_org(org).values(*fields).annotate(n=Count("id")).order_by()
    for row in rows:
        one = (row["inherent_likelihood"], row["inherent_impact"])
        two = (row["residual_likelihood"], row["residual_impact"])
        inherent[one] = inherent.get(one, 0) + row["n"]
        residual[two] = residual.get(two, 0) + row["n"]
    return inherent, residual


def owner_choices(org: Organization) -> list[tuple[int, str]]:
    """Members who can own a risk: those who manage the register."""
    rows = (
        Membership.objects.for_org(org)
        .filter(role__in=MANAGER_ROLES)
        .select_related("user")
        .order_by("user__email")
    )
    return [(m.pk, m.user.email) for m in rows if m.is_active]


def library_rows(org: Organization) -> list[tuple[LibraryRisk, int | None]]:
    """Each library risk with the id of the risk adopted from it, if any (one query)."""
    adopted = dict(
        Risk.objects.for_org(org).exclude(library_key="").values_list("library_key", "id")
    )
    return [(entry, adopted.get(entry.key)) for entry in library()]


def owned_review_items(membership: Membership, today: dt.date) -> QuerySet[Risk]:
    """The member's risks whose acceptance expired or whose review date passed."""
    return (
        Risk.objects.for_org(membership.organization_id)
        .filter(owner_id=membership.pk)
        .filter(
            Q(treatment=Treatment.ACCEPT, accepted_until__lt=today) | Q(next_review_date__lt=today)
        )
        .order_by("next_review_date", "id")
    )
