"""The "Risks" section of the owners' daily digest (``risks.digest``): expired acceptances and
overdue reviews told once to the risk's owner, the risk assessment overdue (none yet, or its
interval passed) told once to the compliance managers; another organization's risks never in
this one's digest; a constant number of queries whatever the register's size."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.freshness import freshness_check
from risks import digest as risk_digest
from risks import services
from risks.models import RiskAssessment, RiskMatrix
from tenants.context import org_scope
from tenants.models import Role

pytestmark = pytest.mark.django_db

DAY0 = timezone.localdate()


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """The daily pass on ``today``: {recipient: body} of the digests it mailed."""

    def go(today: dt.date) -> dict[str, str]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            freshness_check(today=today)
        return {m.to[0]: m.body for m in mail.outbox}

    return go


@pytest.fixture
def risk_owner(org, make_member):
    """An admin who owns risks: not among the fallback recipients (the compliance managers)."""
    return make_member(org, Role.ADMIN)


def add(manager, title, **values):
    values.setdefault("category", "security")
    values.setdefault("inherent_likelihood", 3)
    values.setdefault("inherent_impact", 3)
    return services.risk_create(membership=manager, title=title, today=DAY0, **values)


def test_each_risk_news_is_told_once_to_its_owner(org, manager, risk_owner, run):
    add(
        manager,
        "Vendor outage accepted",
        owner=risk_owner.pk,
        treatment="accept",
        accepted_reason="Cheaper than a second provider",
        accepted_until=day(2),
        next_review_date=day(30),
    )
    add(manager, "Laptop theft", owner=risk_owner.pk, next_review_date=day(1))
    add(manager, "Entered already late", next_review_date=day(-5))  # nobody owns it

    first = run(DAY0)
    # Nobody owns the late risk nor the assessment: the compliance manager is told.
    assert set(first) == {manager.user.email}
    body = first[manager.user.email]
    assert "Risk reviews overdue" in body and "Entered already late: review was due" in body
    assert "Risk assessment overdue" in body and "No risk assessment has been run yet" in body
    assert "Laptop theft" not in body and "Vendor outage" not in body
    assert run(DAY0) == {}  # the same day again: nothing twice

    second = run(day(2))  # the review of day 1 passed
    assert set(second) == {risk_owner.user.email}
    assert "Laptop theft: review was due" in second[risk_owner.user.email]
    assert "Entered already late" not in second[risk_owner.user.email]

    third = run(day(3))  # the acceptance ran until day 2
    assert set(third) == {risk_owner.user.email}
    text = third[risk_owner.user.email]
    assert "Risk acceptances expired" in text
    assert "Vendor outage accepted: accepted until" in text and "decide its treatment" in text
    assert "Laptop theft" not in text
    assert run(day(3)) == {} and run(day(4)) == {}  # still late, but told already

    # A risk entered late after the last digest is news the next day.
    add(manager, "Added later, already late", owner=risk_owner.pk, next_review_date=day(-1))
    late = run(day(5))
    assert "Added later, already late" in late[risk_owner.user.email]
    assert "No risk assessment" not in "".join(late.values())


def test_the_assessment_due_after_its_interval_is_told_once(org, manager, run):
    add(manager, "Anything", next_review_date=day(300))
    RiskAssessment.objects.create(
        organization=org, performed_on=day(-360), next_due=day(5), status="ready"
    )
    with org_scope(org):
        from risks.matrix import matrix_for

        matrix_for(org)
    RiskMatrix.objects.for_org(org).update(assessment_interval_days=365)
    assert run(DAY0) == {}  # due on day 5
    assert run(day(5)) == {}  # due today is not overdue yet
    told = run(day(6))
    assert "The risk assessment of" in told[manager.user.email]
    assert "was due again on" in told[manager.user.email]
    assert run(day(7)) == {}
    # The next assessment, and a shorter interval: due 3 days after it, told once.
    RiskAssessment.objects.create(
        organization=org, performed_on=day(7), next_due=day(372), status="ready"
    )
    RiskMatrix.objects.for_org(org).update(assessment_interval_days=3)
    assert run(day(10)) == {}  # due on day 10
    assert "was due again on" in run(day(11))[manager.user.email]
    assert run(day(12)) == {}


def test_another_organizations_risks_are_never_in_this_digest(
    org, other_org, manager, make_member, run
):
    add(manager, "Ours is late", next_review_date=day(-3))
    other_manager = make_member(other_org, Role.COMPLIANCE_MANAGER)
    add(other_manager, "Theirs is late too", next_review_date=day(-3))
    told = run(DAY0)
    assert "Ours is late" in told[manager.user.email]
    assert "Theirs" not in told[manager.user.email]
    assert "Theirs is late too" in told[other_manager.user.email]
    assert "Ours" not in told[other_manager.user.email]


@pytest.mark.parametrize("size", [3, 30])
def test_the_section_costs_a_constant_number_of_queries(org, manager, risk_owner, size):
    for n in range(size):
        add(
            manager,
            f"Late risk {n}",
            owner=risk_owner.pk,
            treatment="accept" if n % 2 else "undecided",
            accepted_reason="Fine" if n % 2 else "",
            accepted_until=day(2) if n % 2 else None,
            next_review_date=day(-1 - n),
        )
    with org_scope(org), transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        entries = risk_digest.claim(org, uuid.uuid4(), day(5))
    assert len(entries) == size + size // 2 + 1  # reviews, expired acceptances, assessment
    # The window (the lock, then the first insert in its savepoint: 4), the risks with their
    # owners (1), the latest assessment (1), the first risk's date (1).
    assert len(ctx.captured_queries) == 7, [q["sql"] for q in ctx.captured_queries]
