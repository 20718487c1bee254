"""The demo roster: twelve people in four departments, managers set, two joiners in the last
three months, one leaver last month, the demo members linked; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from people.demo import demo_seed_people
from people.models import Person
from tenants.models import Role

pytestmark = pytest.mark.django_db


def test_the_demo_roster(org, owner, manager, make_member):
    contributor = make_member(org, Role.CONTRIBUTOR)
    demo_seed_people(org)
    demo_seed_people(org)  # idempotent
    people = list(Person.objects.for_org(org))
    today = timezone.localdate()
    assert len(people) == 12
    assert len({p.department for p in people}) == 4
    assert sum(p.manager_id is None for p in people) == 1  # the CEO
    joiners = [p for p in people if p.start_date >= today - dt.timedelta(days=92)]
    assert len(joiners) == 2
    leavers = [p for p in people if p.end_date is not None]
    first_of_month = today.replace(day=1)
    assert len(leavers) == 1
    assert (first_of_month - dt.timedelta(days=31)) <= leavers[0].end_date < first_of_month
    linked = {p.membership_id: p.email for p in people if p.membership_id}
    assert linked == {
        owner.pk: owner.user.email,
        manager.pk: manager.user.email,
        contributor.pk: contributor.user.email,
    }


def test_the_demo_checklists(org, owner, manager, make_member, catalog):
    """The leaver's offboarding done with one item late (an exception on its control), the
    earlier joiner's onboarding done, the recent joiner's partly done."""
    from controls.models import Control
    from evidence.models import EvidenceVersion
    from people.models import Checklist, ChecklistItem
    from tests.factories import ControlFactory

    make_member(org, Role.CONTRIBUTOR)
    from tests.factories import evidence_row

    for code in ("IAM-05", "HR-01", "HR-05"):
        evidence_row(
            ControlFactory(organization=org, owner=manager, code=code), dt.date(2026, 1, 5)
        )
    demo_seed_people(org)
    leaver = Checklist.objects.for_org(org).get(kind="offboarding")
    assert leaver.person.full_name == "Elena Petrova"
    items = ChecklistItem.objects.for_org(org)
    late = [i for i in items.filter(checklist=leaver) if i.done_late]
    assert [i.title for i in late] == ["Accounts revoked"]
    failing = EvidenceVersion.objects.for_org(org).exclude(failure="")
    assert [v.item.control for v in failing] == [Control.objects.for_org(org).get(code="IAM-05")]
    chloe = items.filter(checklist__person__full_name="Chloé Martin")
    assert chloe.filter(done_on__isnull=False).exists()
    assert chloe.filter(done_on__isnull=True).count() == 1
    today = timezone.localdate()
    assert not items.filter(done_on__isnull=True, due_date__lt=today).exists()  # no overdue
