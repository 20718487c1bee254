"""Write services for audits (type, dates, scope) and the self-assessment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from controls.audits import audit_save, self_assessment_save
from controls.models import Audit, AuditCategory, AuditSystem, SelfAssessmentAnswer
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.context import org_scope
from tenants.models import ActivityEntry, Role
from tests.factories import SystemFactory

D = dt.date
pytestmark = pytest.mark.django_db


def entries(org, **filters) -> list[ActivityEntry]:
    return list(ActivityEntry.objects.for_org(org).filter(**filters).order_by("id"))


def scope(audit) -> list[str]:
    return sorted(
        AuditCategory.objects.for_org(audit.organization_id)
        .filter(audit=audit)
        .values_list("category__key", flat=True)
    )


def type2(membership, start, end, **extra) -> Audit:
    return audit_save(
        membership=membership,
        name=extra.pop("name", "FY25 Type 2"),
        audit_type="type2",
        window_start=start,
        window_end=end,
        **extra,
    )


def refused(call, field: str) -> str:
    with pytest.raises(ValidationFailed) as err:
        call()
    assert err.value.field == field, err.value.message
    return err.value.message


# --- dates ----------------------------------------------------------------------------------


def test_type1_needs_its_as_of_date(org, manager):
    message = refused(
        lambda: audit_save(membership=manager, name="Design", audit_type="type1"), "as_of_date"
    )
    assert message == "A Type 1 audit needs the date its design is assessed at."
    audit = audit_save(
        membership=manager,
        name="Design",
        audit_type="type1",
        as_of_date=D(2025, 3, 31),
        window_start=D(2025, 1, 1),  # ignored for Type 1
    )
    assert (audit.as_of_date, audit.window_start, audit.window_end) == (D(2025, 3, 31), None, None)
    refused(lambda: audit_save(membership=manager, name="X"), "audit_type")
    refused(lambda: audit_save(membership=manager, name="X", audit_type="type3"), "audit_type")


def test_a_finished_audit_cannot_be_as_of_a_future_date(org, manager):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    message = refused(
        lambda: audit_save(
            membership=manager,
            name="Done",
            audit_type="type1",
            as_of_date=tomorrow,
            status="completed",
        ),
        "as_of_date",
    )
    assert message == "A completed audit cannot be as of a future date."
    audit_save(membership=manager, name="Planned", audit_type="type1", as_of_date=tomorrow)


@pytest.mark.parametrize(
    ("start", "end", "accepted", "message"),
    [
        (D(2025, 1, 1), D(2025, 12, 31), True, ""),  # exactly 12 months
        (D(2024, 2, 15), D(2025, 2, 14), True, ""),  # 12 months, not calendar-aligned
        (D(2025, 1, 1), D(2025, 3, 31), True, ""),  # exactly 3 months
        (
            D(2025, 1, 1),
            D(2026, 1, 1),
            False,
            "The window is 12 months and 1 day long; a SOC 2 Type 2 window is at most 12 months.",
        ),
        (
            D(2025, 1, 1),
            D(2025, 3, 30),
            False,
            "The window is 2 months and 30 days long; auditors expect at least 3 months.",
        ),
    ],
)
def test_type2_window_is_3_to_12_months(org, manager, start, end, accepted, message):
    if accepted:
        audit = type2(manager, start, end)
        assert (audit.window_start, audit.window_end, audit.as_of_date) == (start, end, None)
    else:
        assert refused(lambda: type2(manager, start, end), "window_end") == message
        assert not Audit.objects.for_org(org).exists()


def test_a_window_ending_before_it_starts_is_refused(org, manager):
    message = refused(lambda: type2(manager, D(2025, 6, 30), D(2025, 1, 1)), "window_end")
    assert message == "The window must end after it starts."
    refused(lambda: type2(manager, D(2025, 1, 1), D(2025, 1, 1)), "window_end")
    refused(lambda: type2(manager, None, D(2025, 6, 30)), "window_start")
    refused(lambda: type2(manager, D(2025, 1, 1), None), "window_end")
    refused(
        lambda: type2(
            manager,
            D(2025, 1, 1),
            D(2025, 12, 31),
            fieldwork_start=D(2026, 2, 1),
            fieldwork_end=D(2026, 1, 15),
        ),
        "fieldwork_end",
    )


# --- scope, names, logging ------------------------------------------------------------------


def test_security_is_always_in_scope(org, manager):
    only = type2(manager, D(2025, 1, 1), D(2025, 12, 31), name="A")
    more = type2(
        manager, D(2025, 1, 1), D(2025, 12, 31), name="B", categories=["availability", "privacy"]
    )
    assert scope(only) == ["security"]
    assert scope(more) == ["availability", "privacy", "security"]


def test_unknown_category_and_another_organizations_system_are_refused(org, other_org, manager):
    message = refused(
        lambda: type2(manager, D(2025, 1, 1), D(2025, 12, 31), categories=["bogus", "security"]),
        "categories",
    )
    assert message == "Unknown category: bogus."
    theirs = SystemFactory(organization=other_org)
    ours = SystemFactory(organization=org)
    for systems in ([ours.pk, theirs.pk], ["abc"]):
        message = refused(
            lambda systems=systems: type2(manager, D(2025, 1, 1), D(2025, 12, 31), systems=systems),
            "systems",
        )
        assert message == "Choose systems of this organization."
    assert not Audit.objects.for_org(org).exists()
    audit = type2(manager, D(2025, 1, 1), D(2025, 12, 31), systems=[str(ours.pk)])
    assert list(AuditSystem.objects.for_org(org).values_list("system_id", flat=True)) == [ours.pk]
    assert audit.created_by == manager.user


def test_duplicate_names_are_refused(org, manager, outsider):
    first = type2(manager, D(2025, 1, 1), D(2025, 12, 31), name="FY25")
    message = refused(lambda: type2(manager, D(2025, 1, 1), D(2025, 12, 31), name=" FY25 "), "name")
    assert message == "Another audit is already named “FY25”."
    second = type2(manager, D(2025, 1, 1), D(2025, 12, 31), name="FY26")
    refused(lambda: audit_save(membership=manager, audit=second, name="FY25"), "name")
    audit_save(membership=manager, audit=first, name="FY25", cpa_firm="Smith LLP")  # itself
    type2(outsider, D(2025, 1, 1), D(2025, 12, 31), name="FY25")  # another organization
    refused(lambda: audit_save(membership=manager, name="  ", audit_type="type1"), "name")


def test_create_and_update_are_logged_and_update_keeps_the_scope(org, manager):
    system = SystemFactory(organization=org, name="Prod")
    audit = type2(
        manager, D(2025, 1, 1), D(2025, 12, 31), categories=["availability"], systems=[system.pk]
    )
    [created] = entries(org)
    assert (created.action, created.object_type) == ("create", "controls.audit")
    assert created.changes["categories"] == [None, ["availability", "security"]]
    assert created.changes["systems"] == [None, [system.pk]]
    assert created.changes["window_start"] == [None, "2025-01-01"]

    audit_save(membership=manager, audit=audit, cpa_firm=" Smith & Co LLP ")
    audit.refresh_from_db()
    assert audit.cpa_firm == "Smith & Co LLP"
    assert scope(audit) == ["availability", "security"]  # not given: kept
    assert AuditSystem.objects.for_org(org).count() == 1
    assert entries(org, action="update")[-1].changes == {"cpa_firm": ["", "Smith & Co LLP"]}

    audit_save(membership=manager, audit=audit, categories=["confidentiality"], systems=[])
    assert scope(audit) == ["confidentiality", "security"]
    assert entries(org, action="update")[-1].changes == {
        "categories": [["availability", "security"], ["confidentiality", "security"]],
        "systems": [[system.pk], []],
    }
    audit_save(membership=manager, audit=audit)  # nothing changed, nothing logged
    assert len(entries(org, action="update")) == 2


def test_only_managers_save_audits(org, manager, make_member, outsider):
    audit = type2(manager, D(2025, 1, 1), D(2025, 12, 31))
    for role in (Role.CONTRIBUTOR, Role.AUDITOR):
        member = make_member(org, role)
        with pytest.raises(NotPermitted):
            type2(member, D(2025, 1, 1), D(2025, 12, 31), name="Mine")
        with pytest.raises(NotPermitted):
            audit_save(membership=member, audit=audit, cpa_firm="Mine")
    with pytest.raises(NotFound):
        audit_save(membership=outsider, audit=audit, cpa_firm="Theirs")
    audit.refresh_from_db()
    assert audit.cpa_firm == ""
    assert len(entries(org)) == 1


# --- self-assessment ------------------------------------------------------------------------


@pytest.fixture
def audit(manager):
    # The self-assessment runs in its organization, as every request and task does (the
    # criteria in scope are read through the audit's categories, a tenant sub-select): under
    # row-level security as the app role (tests.rls_app_role) nothing is visible otherwise.
    with org_scope(manager.organization):
        yield type2(manager, D(2025, 1, 1), D(2025, 12, 31), categories=["availability"])


def answers_of(audit) -> dict[str, tuple[str, str]]:
    return {
        a.criterion.ref: (a.answer, a.notes)
        for a in SelfAssessmentAnswer.objects.for_org(audit.organization_id)
        .filter(audit=audit)
        .select_related("criterion")
    }


def test_self_assessment_counts_changes_and_logs_them(org, manager, audit):
    changed = self_assessment_save(
        membership=manager,
        audit=audit,
        answers={"CC1.1": ("in_place", ""), "a1.2": ("not_applicable", " Single region. ")},
    )
    assert changed == 2
    assert answers_of(audit) == {
        "CC1.1": ("in_place", ""),
        "A1.2": ("not_applicable", "Single region."),
    }
    entry = entries(org, action="assess")[0]
    assert (entry.object_type, entry.object_id) == ("controls.audit", str(audit.pk))
    assert entry.changes == {"CC1.1": [None, "in_place"], "A1.2": [None, "not_applicable"]}

    assert (
        self_assessment_save(membership=manager, audit=audit, answers={"CC1.1": ("in_place", "")})
        == 0
    )
    assert len(entries(org, action="assess")) == 1

    changed = self_assessment_save(
        membership=manager,
        audit=audit,
        answers={
            "CC1.1": ("partly", "Code of conduct not yet signed by all."),
            "A1.2": ("not_applicable", "Single region."),
        },
    )
    assert changed == 1
    assert entries(org, action="assess")[-1].changes == {"CC1.1": ["in_place", "partly"]}


def test_self_assessment_refuses_bad_answers(org, manager, audit, make_member):
    message = refused(
        lambda: self_assessment_save(
            membership=manager,
            audit=audit,
            answers={"CC1.1": ("in_place", ""), "PI1.1": ("in_place", "")},
        ),
        "PI1.1",
    )
    assert message == "PI1.1 is not in this audit's scope."
    message = refused(
        lambda: self_assessment_save(
            membership=manager, audit=audit, answers={"CC1.2": ("not_applicable", "  ")}
        ),
        "CC1.2",
    )
    assert message == "Explain why CC1.2 does not apply."
    refused(
        lambda: self_assessment_save(
            membership=manager, audit=audit, answers={"CC1.2": ("yes", "")}
        ),
        "CC1.2",
    )
    assert answers_of(audit) == {}  # nothing half-saved
    for role in (Role.CONTRIBUTOR, Role.AUDITOR):
        with pytest.raises(NotPermitted):
            self_assessment_save(
                membership=make_member(org, role), audit=audit, answers={"CC1.1": ("in_place", "")}
            )
    assert entries(org, action="assess") == []


def test_self_assessment_of_another_organizations_audit_is_not_found(audit, outsider):
    with pytest.raises(NotFound):
        self_assessment_save(membership=outsider, audit=audit, answers={"CC1.1": ("in_place", "")})
    assert answers_of(audit) == {}
