"""The demo register: six adopted risks, scored after treatment, one acceptance expired on
the compliance manager's to-do list; idempotent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from risks.demo import demo_seed_risks
from risks.models import Risk
from risks.selectors import expired_acceptances
from risks.todo import risk_todos
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db


def test_the_demo_register(org, manager):
    for code in ("IAM-03", "CHG-02", "VEND-04", "RISK-04"):
        ControlFactory(organization=org, code=code)
    demo_seed_risks(org)
    demo_seed_risks(org)  # idempotent
    risks = list(Risk.objects.for_org(org))
    assert len(risks) == 6
    mitigated = [r for r in risks if r.treatment == "mitigate"]
    assert len(mitigated) == 4 and all(r.residual_score < r.inherent_score for r in mitigated)
    today = timezone.localdate()
    assert [r.library_key for r in expired_acceptances(org, today)] == ["capacity-shortfall"]
    kinds = [i.kind for i in risk_todos(manager, today)]
    assert kinds == ["risk.acceptance_expired"]
