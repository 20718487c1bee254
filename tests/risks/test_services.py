"""Risk services on the database: scores, the matrix's bounds, treatments and their rules,
acceptance (who, why, until; expired), adopting from the library, roles, other
organizations' ids, and one activity entry per change with nothing stored on refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from risks import selectors, services
from risks.matrix import level_of, matrix_for, score_range
from risks.models import Level, Risk, RiskControl
from risks.todo import risk_todos
from soc2app.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry
from tests.factories import ControlFactory, SystemFactory
from tests.risks.conftest import TODAY

pytestmark = pytest.mark.django_db


def _get(org, risk):
    return selectors.risk_get(org, risk.pk)  # with its controls and systems


def _entries(org, action=None):
    rows = ActivityEntry.objects.for_org(org).filter(object_type="risks.risk")
    return rows.filter(action=action) if action else rows


def owned_todos(membership, today):
    """The to-do items about the member's own risks (not the periodic assessment, which every
    manager sees: tests/risks/test_assessment.py)."""
    return [i for i in risk_todos(membership, today) if i.kind != "risk.assessment_overdue"]


def test_scores_levels_and_default_review_date(org, add):
    risk = add(inherent_likelihood=4, inherent_impact=5, residual_likelihood=2, residual_impact=3)
    risk.refresh_from_db()
    assert (risk.inherent_score, risk.residual_score) == (20, 6)
    matrix = matrix_for(org)
    assert (level_of(matrix, 20), level_of(matrix, 6)) == (Level.CRITICAL, Level.MEDIUM)
    assert score_range(matrix, Level.HIGH) == (10, 15)
    assert score_range(matrix, Level.LOW) == (1, 4)
    assert risk.next_review_date == dt.date(2027, 3, 2)
    # Residual defaults to inherent: no treatment yet.
    other = add("Other", inherent_likelihood=3, inherent_impact=2)
    assert (other.residual_likelihood, other.residual_impact, other.residual_score) == (3, 2, 6)
    assert _entries(org, "create").count() == 2


@pytest.mark.parametrize(
    "values, field",
    [
        ({"inherent_likelihood": 6}, "inherent_likelihood"),
        ({"inherent_impact": 0}, "inherent_impact"),
        ({"residual_likelihood": -1}, "residual_likelihood"),
        ({"residual_impact": "3"}, "residual_impact"),
        ({"category": "gossip"}, "category"),
        ({"treatment": "ignore"}, "treatment"),
        ({"treatment": "mitigate"}, "controls"),
        (
            {"treatment": "accept", "accepted_until": TODAY + dt.timedelta(days=30)},
            "accepted_reason",
        ),
        ({"treatment": "accept", "accepted_reason": "Cheap to absorb"}, "accepted_until"),
        (
            {"treatment": "accept", "accepted_reason": "x", "accepted_until": TODAY},
            "accepted_until",
        ),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_stored(org, add, values, field):
    with pytest.raises(ValidationFailed) as refused:
        add(**values)
    assert refused.value.field == field
    assert Risk.objects.for_org(org).count() == 0 and _entries(org).count() == 0


def test_the_matrix_message_names_its_size(add):
    with pytest.raises(ValidationFailed, match=r"from 1 to 5 .*5x5"):
        add(inherent_likelihood=9)


def test_mitigate_needs_a_control_and_accept_records_who_why_until(org, add, manager, control):
    risk = add(treatment="mitigate", controls=[control.pk], residual_likelihood=2)
    assert list(_get(org, risk).controls.all()) == [control]
    with pytest.raises(ValidationFailed) as refused:
        services.risk_update(membership=manager, risk=risk, controls=[], today=TODAY)
    assert refused.value.field == "controls"
    assert RiskControl.objects.for_org(org).filter(risk=risk).count() == 1
    risk.refresh_from_db()
    assert risk.treatment == "mitigate"
    until = TODAY + dt.timedelta(days=90)
    services.risk_update(
        membership=manager,
        risk=risk,
        treatment="accept",
        accepted_reason=" Cost of MFA for contractors too high ",
        accepted_until=until,
        today=TODAY,
    )
    risk.refresh_from_db()
    assert (risk.accepted_by_id, risk.accepted_reason, risk.accepted_until) == (
        manager.pk,
        "Cost of MFA for contractors too high",
        until,
    )
    assert risk.accepted_at is not None
    update = _entries(org, "update").get()
    assert update.changes["treatment"] == ["mitigate", "accept"]
    # Leaving "accept" clears the acceptance.
    services.risk_update(membership=manager, risk=risk, treatment="transfer", today=TODAY)
    risk.refresh_from_db()
    assert (risk.accepted_by_id, risk.accepted_reason, risk.accepted_until) == (None, "", None)
    # An unchanged save writes nothing.
    services.risk_update(membership=manager, risk=risk, treatment="transfer", today=TODAY)
    assert _entries(org, "update").count() == 2


def test_expired_acceptance_is_flagged_and_on_the_owners_todo(org, add, manager, reviewer):
    until = TODAY + dt.timedelta(days=10)
    risk = add(
        treatment="accept", accepted_reason="Low value", accepted_until=until, owner=manager.pk
    )
    add("Not accepted", owner=manager.pk)
    later = until + dt.timedelta(days=1)
    assert list(selectors.expired_acceptances(org, until)) == []
    assert list(selectors.expired_acceptances(org, later)) == [risk]
    assert selectors.acceptance_expired(risk, later) and not selectors.acceptance_expired(
        risk, until
    )
    assert owned_todos(manager, until) == []
    items = owned_todos(manager, later)
    assert [i.kind for i in items] == ["risk.acceptance_expired"]
    assert items[0].due == until and str(risk.pk) in items[0].url
    assert owned_todos(reviewer, later) == []  # not theirs
    # Changing another field of an expired acceptance is allowed; renewing needs a future date.
    services.risk_update(membership=manager, risk=risk, title="Renamed", today=later)
    with pytest.raises(ValidationFailed):
        services.risk_update(
            membership=manager, risk=risk, accepted_until=until - dt.timedelta(days=1), today=later
        )


def test_review_overdue_is_on_the_owners_todo(add, manager):
    add(owner=manager.pk, next_review_date=TODAY)
    items = owned_todos(manager, TODAY + dt.timedelta(days=1))
    assert [i.kind for i in items] == ["risk.review"]


def test_adopt_from_the_library_links_existing_controls(org, manager):
    mfa = ControlFactory(organization=org, code="IAM-03")
    ControlFactory(organization=org, code="HR-09")
    risk = services.risk_adopt(membership=manager, key="account-takeover", today=TODAY)
    assert risk.library_key == "account-takeover" and risk.owner_id == manager.pk
    assert risk.treatment == "mitigate" and mfa in _get(org, risk).controls.all()
    assert len(_get(org, risk).controls.all()) == 2
    assert (risk.inherent_score, risk.residual_score) == (16, 16)
    with pytest.raises(Conflict):
        services.risk_adopt(membership=manager, key="account-takeover")
    with pytest.raises(NotFound):
        services.risk_adopt(membership=manager, key="no-such-risk")
    # No matching control: adopted undecided.
    bare = services.risk_adopt(membership=manager, key="office-intrusion")
    assert bare.treatment == "undecided" and list(_get(org, bare).controls.all()) == []


def test_contributors_and_auditors_cannot_write(org, add, contributor, auditor):
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            add(membership=member)
        with pytest.raises(NotPermitted):
            services.risk_adopt(membership=member, key="ddos")
    risk = add()
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            services.risk_update(membership=member, risk=risk, title="x")
        with pytest.raises(NotPermitted):
            services.risk_delete(membership=member, risk=risk)
    assert Risk.objects.for_org(org).count() == 1


def test_another_organizations_controls_systems_and_owners_are_refused(
    org, other_org, add, manager, outsider, contributor
):
    theirs = ControlFactory(organization=other_org, code="IAM-03")
    their_system = SystemFactory(organization=other_org)
    for values, field in (
        ({"controls": [theirs.pk], "treatment": "mitigate"}, "controls"),
        ({"systems": [their_system.pk]}, "systems"),
        ({"owner": outsider.pk}, "owner"),
        ({"owner": contributor.pk}, "owner"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            add(**values)
        assert refused.value.field == field
    ours = SystemFactory(organization=org)
    risk = add(systems=[ours.pk])
    assert list(_get(org, risk).systems.all()) == [ours]


def test_delete_records_and_removes(org, add, manager, control):
    risk = add(treatment="mitigate", controls=[control.pk])
    services.risk_delete(membership=manager, risk=risk)
    assert Risk.objects.for_org(org).count() == 0
    assert _entries(org, "delete").get().object_repr == "Account takeover"


def test_database_holds_the_score_and_acceptance_rules(org, add):
    risk = add()
    with pytest.raises(IntegrityError), transaction.atomic():
        Risk.objects.for_org(org).filter(pk=risk.pk).update(inherent_score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Risk.objects.for_org(org).filter(pk=risk.pk).update(treatment="accept")
    with pytest.raises(IntegrityError), transaction.atomic():
        Risk.objects.for_org(org).filter(pk=risk.pk).update(
            residual_likelihood=11, residual_score=11 * risk.residual_impact
        )
