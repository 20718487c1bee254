"""The organization's risk matrix: the defaults until its first write (a read never creates
the row), locked by every write that depends on it; the level of a score (from the
thresholds, which are data), and the range check of likelihood and impact."""

from __future__ import annotations

from risks.models import Level, RiskMatrix
from soc2app.errors import ValidationFailed
from tenants.models import Organization

DEFAULT_SIZE = 5
DEFAULT_LIKELIHOOD = ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"]
DEFAULT_IMPACT = ["Negligible", "Minor", "Moderate", "Major", "Severe"]
# The lowest score of each level above "low" (scores run 1..25 on a 5x5 matrix).
DEFAULT_THRESHOLDS = {Level.MEDIUM.value: 5, Level.HIGH.value: 10, Level.CRITICAL.value: 16}
LEVEL_ORDER = [Level.LOW, Level.MEDIUM, Level.HIGH, Level.CRITICAL]
# Heat-map colours of each level (SVG presentation attributes: no inline style under the CSP).
LEVEL_COLOURS = {
    Level.LOW: "#cdeccf",
    Level.MEDIUM: "#fbe7a1",
    Level.HIGH: "#f8c08a",
    Level.CRITICAL: "#f29b9b",
}


def _defaults() -> dict:
    return {
        "size": DEFAULT_SIZE,
        "likelihood_labels": list(DEFAULT_LIKELIHOOD),
        "impact_labels": list(DEFAULT_IMPACT),
        "thresholds": dict(DEFAULT_THRESHOLDS),
    }


def matrix_for(org: Organization) -> RiskMatrix:
    """The organization's stored matrix, created with the defaults when it has none: for a
    write only (a read uses ``matrix_read``, which writes nothing). Two concurrent first writes
    create one row (the one-per-organization constraint; the loser reads the winner's)."""
    matrix, _ = RiskMatrix.objects.for_org(org).get_or_create(
        organization_id=getattr(org, "pk", org), defaults=_defaults()
    )
    return matrix


def matrix_locked(org: Organization) -> RiskMatrix:
    """The organization's matrix, created when absent and locked until the caller's
    transaction ends (``SELECT ... FOR UPDATE``). Every write that depends on the matrix takes
    this lock: a change of the matrix (``services_matrix``) and a risk's scores
    (``services``), so a risk cannot be scored beyond a matrix being shrunk (the shrink's
    count of such risks would miss it), and both see the matrix that holds."""
    locked = RiskMatrix.objects.for_org(org).select_for_update()
    found = locked.first()
    if found is not None:
        return found
    matrix_for(org)
    return locked.get()


def level_of(matrix: RiskMatrix, score: int) -> Level:
    level = Level.LOW
    for candidate in LEVEL_ORDER[1:]:
        floor = matrix.thresholds.get(candidate.value)
        if floor is not None and score >= floor:
            level = candidate
    return level


def score_range(matrix: RiskMatrix, level: Level) -> tuple[int, int]:
    """The scores (inclusive) that fall in ``level`` on this matrix."""
    top = matrix.size * matrix.size
    index = LEVEL_ORDER.index(level)
    low = 1 if index == 0 else matrix.thresholds.get(level.value, top + 1)
    higher = [matrix.thresholds.get(lv.value) for lv in LEVEL_ORDER[index + 1 :]]
    high = min([h - 1 for h in higher if h is not None] or [top])
    return low, high


def check_point(matrix: RiskMatrix, *, likelihood: object, impact: object, prefix: str) -> None:
    """Refuse a likelihood or impact outside the matrix, naming the field."""
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= matrix.size:
            raise ValidationFailed(
                f"The {prefix} {name} must be a whole number from 1 to {matrix.size} "
                f"(the organization's risk matrix is {matrix.size}x{matrix.size}).",
                field=f"{prefix}_{name}",
            )


def label(labels: list[str], value: int) -> str:
    return labels[value - 1] if 0 < value <= len(labels) else str(value)


def matrix_read(org: Organization) -> RiskMatrix:
    """The organization's matrix for a read (pages, the API, the auditor portal), which writes
    nothing: the stored one, or the defaults unsaved (the row is created by the first change,
    ``matrix_for``). One query."""
    found = RiskMatrix.objects.for_org(org).first()
    if found is not None:
        return found
    return RiskMatrix(organization_id=getattr(org, "pk", org), **_defaults())
