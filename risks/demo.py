"""The demo's risk register: six library risks adopted by the compliance manager, scored
after treatment (mitigated with the demo's controls where it has them), one accepted and one
whose acceptance has expired (on the manager's to-do list), and one risk assessment run three
weeks ago (so its CC3.x controls have evidence on the Type 1 audit's date; its PDF renders on
the worker); idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from risks import services
from risks.assessment import assessment_run
from risks.models import Risk, RiskAssessment, Treatment
from tenants.models import Membership, Organization, Role

# key -> residual (likelihood, impact) once treated
MITIGATED = {
    "account-takeover": (2, 4),
    "faulty-release": (2, 3),
    "vendor-breach": (2, 4),
    "insider-fraud": (1, 4),
}
ACCEPTED = ("office-intrusion", "capacity-shortfall")
# Before the demo's Type 1 as-of date (two weeks ago), so readiness counts its evidence.
ASSESSED_DAYS_AGO = 21


def demo_seed_risks(organization: Organization) -> None:
    manager = (
        Membership.objects.for_org(organization)
        .filter(role=Role.COMPLIANCE_MANAGER)
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )
    if manager is None:
        return
    if not Risk.objects.for_org(organization).exists():
        _register(manager)
    if not RiskAssessment.objects.for_org(organization).exists():
        assessment_run(
            membership=manager,
            performed_on=timezone.localdate() - dt.timedelta(days=ASSESSED_DAYS_AGO),
            notes="Yearly assessment with the leadership team: register reviewed risk by risk.",
        )


def _register(manager: Membership) -> None:
    today = timezone.localdate()
    for key, (likelihood, impact) in MITIGATED.items():
        risk = services.risk_adopt(membership=manager, key=key, today=today)
        if risk.treatment == Treatment.MITIGATE:
            services.risk_update(
                membership=manager,
                risk=risk,
                residual_likelihood=likelihood,
                residual_impact=impact,
                today=today,
            )
    for n, key in enumerate(ACCEPTED):
        risk = services.risk_adopt(membership=manager, key=key, today=today)
        # The second was accepted two months ago for a month: its acceptance has expired.
        accepted_on = today - dt.timedelta(days=60 * n)
        services.risk_update(
            membership=manager,
            risk=risk,
            treatment=Treatment.ACCEPT,
            accepted_reason="Low impact for a small team; revisit after the office move.",
            accepted_until=accepted_on + dt.timedelta(days=30 if n else 180),
            today=accepted_on,
        )
