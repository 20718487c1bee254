"""A risk scored while the matrix is being shrunk never slips past the shrink's check
(PostgreSQL, two real connections): the matrix row is locked by the change and by every risk
write, so whichever comes second waits for the first and is checked against what it did.
And the first writes of an organization without a matrix row create one row between them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import transaction

from risks import services, services_matrix
from risks.models import Risk, RiskMatrix
from soc2app.errors import ValidationFailed
from tenants.context import org_scope
from tests.threads import InOrg, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHRINK = {
    "size": 3,
    "likelihood_labels": ["Low", "Medium", "High"],
    "impact_labels": ["Low", "Medium", "High"],
    "thresholds": {"medium": 3, "high": 5, "critical": 7},
}


def _score(manager, likelihood: int) -> Callable[[], Risk]:
    return lambda: services.risk_create(
        membership=manager,
        title=f"Scored at {likelihood}",
        category="security",
        inherent_likelihood=likelihood,
        inherent_impact=likelihood,
    )


@pytest.mark.parametrize("stored", [True, False], ids=["matrix stored", "defaults"])
def test_a_risk_scored_during_a_shrink_waits_and_is_checked_on_the_new_size(org, manager, stored):
    if stored:
        services_matrix.matrix_update(membership=manager, assessment_interval_days=180)
    with org_scope(org), transaction.atomic():
        services_matrix.matrix_update(membership=manager, **SHRINK)  # counted no risk beyond 3
        other = InOrg(org, _score(manager, 4))
        other.start()
        waited = other.blocked()
    other.join(timeout=60)

    assert waited, "the risk was scored without waiting for the matrix change"
    assert isinstance(other.result, ValidationFailed), other.result
    assert other.result.field == "inherent_likelihood"
    assert "from 1 to 3" in other.result.message
    with org_scope(org):
        assert RiskMatrix.objects.get().size == 3
        assert not Risk.objects.exists()


@pytest.mark.parametrize("stored", [True, False], ids=["matrix stored", "defaults"])
def test_a_shrink_during_a_risk_scoring_waits_and_counts_it(org, manager, stored):
    if stored:
        services_matrix.matrix_update(membership=manager, assessment_interval_days=180)
    with org_scope(org), transaction.atomic():
        _score(manager, 4)()
        other = InOrg(org, lambda: services_matrix.matrix_update(membership=manager, **SHRINK))
        other.start()
        waited = other.blocked()
    other.join(timeout=60)

    assert waited, "the matrix shrank without waiting for the risk being scored"
    assert isinstance(other.result, services_matrix.RisksBeyondMatrix), other.result
    assert other.result.count == 1
    with org_scope(org):
        assert RiskMatrix.objects.get().size == 5
        assert Risk.objects.get().inherent_likelihood == 4


def test_concurrent_first_writes_create_one_matrix_row(org, manager):
    start = threading.Barrier(4)

    def at_once(work: Callable[[], object]) -> Callable[[], object]:
        def go() -> object:
            start.wait(timeout=30)
            return work()

        return go

    works = [
        lambda: services_matrix.matrix_update(membership=manager, assessment_interval_days=90),
        lambda: services_matrix.matrix_update(
            membership=manager, thresholds={"medium": 4, "high": 8, "critical": 12}
        ),
        _score(manager, 2),
        _score(manager, 3),
    ]
    run_together(org, [at_once(work) for work in works])
    with org_scope(org):
        matrix = RiskMatrix.objects.get()
        assert matrix.assessment_interval_days == 90
        assert matrix.thresholds == {"medium": 4, "high": 8, "critical": 12}
        assert Risk.objects.count() == 2
