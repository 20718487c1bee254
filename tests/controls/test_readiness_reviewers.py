"""Readiness names who reviewed the evidence behind a met criterion (segregation of duties is
visible on the dashboard), in the same six queries whatever the number of reviewers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from controls.readiness import Status, audit_readiness
from evidence.models import EvidenceVersion
from tests.factories import ControlFactory, control_map, evidence_row

pytestmark = pytest.mark.django_db
D = dt.date


def _reviewed(version: EvidenceVersion, member) -> None:
    EvidenceVersion.objects.for_org(version.organization_id).filter(pk=version.pk).update(
        reviewed_by=member.user
    )


def _cc61(readiness):
    return next(r for r in readiness.criteria if r.criterion.ref == "CC6.1")


@pytest.mark.parametrize("type2", [False, True], ids=["type1", "type2"])
def test_met_reasons_name_the_reviewers_in_constant_queries(
    org, manager, make_member, make_audit, django_assert_num_queries, type2
):
    audit = (
        make_audit(org, window=(D(2024, 1, 1), D(2024, 12, 31)))
        if type2
        else make_audit(org, as_of=D(2024, 12, 31))
    )
    control = control_map(
        ControlFactory(
            organization=org,
            owner=manager,
            code="AC-1",
            frequency="quarterly",
            created_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        ),
        "CC6.1",
    )
    alice, bob = make_member(org), make_member(org)
    for n, start in enumerate((D(2024, 2, 1), D(2024, 5, 1), D(2024, 8, 1), D(2024, 11, 1))):
        version = evidence_row(control, start, valid_until=D(2025, 3, 31))
        _reviewed(version, alice if n % 2 else bob)
    # Not accepted: its reviewer is not named.
    rejected = evidence_row(control, D(2024, 12, 1), state="rejected", valid_until=D(2025, 3, 1))
    carol = make_member(org)
    _reviewed(rejected, carol)

    # six queries; a Type 2 audit adds one for the deviations recorded in its window
    with django_assert_num_queries(7 if type2 else 6):
        readiness = audit_readiness(audit, today=D(2025, 2, 1))
    row = _cc61(readiness)
    assert row.status == Status.MET
    expected = sorted([alice.user.email, bob.user.email])
    assert row.controls[0].reviewers == expected
    assert row.reasons[0].endswith(f"; reviewed by {', '.join(expected)}).")
    assert carol.user.email not in " ".join(row.reasons)


def test_the_dashboard_shows_who_reviewed(org, manager, reviewer, make_audit, client_for):
    audit = make_audit(org, as_of=D(2024, 12, 31))
    control = control_map(ControlFactory(organization=org, owner=manager, code="AC-2"), "CC6.1")
    _reviewed(evidence_row(control, D(2024, 11, 1), valid_until=D(2025, 3, 31)), reviewer)
    page = client_for(manager).get(reverse("audit_detail", args=[org.slug, audit.pk]))
    assert f"reviewed by {reviewer.user.email}" in page.content.decode()
    api = client_for(manager).get(f"/api/v1/orgs/{org.slug}/audits/{audit.pk}/readiness/")
    (row,) = [c for c in api.json()["controls"] if c["code"] == "AC-2"]
    assert row["reviewers"] == [reviewer.user.email]
