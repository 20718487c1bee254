"""Realistic demo data for ``seed_demo``: a system, adopted controls with owners and statuses,
evidence across a Type 2 window (some missing, some awaiting review, some stale), a Type 1 and
a Type 2 audit with a partial self-assessment, and one exception of the Type 2 audit with a
recorded deviation (the management response). Everything goes through the services, so the
activity log reads like a real organization's: each control's owner adds its evidence and
someone else reviews it (the compliance manager, or the owner of the organization for the
manager's own uploads), as independent review requires. Idempotent: what exists is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from controls import audits as audit_services
from controls import services, systems
from controls.models import (
    Answer,
    Audit,
    Control,
    ControlCriterion,
    ControlStatus,
    ControlTemplate,
    Deviation,
    FrequencyRule,
    System,
)
from controls.periods import add_months, split_window
from criteria.selectors import framework_get
from evidence import services as evidence_services
from evidence.models import ReviewState
from tenants.models import Membership, Organization, Role

logger = logging.getLogger(__name__)

SYSTEM = ("Acme Cloud Platform", "The customer-facing SaaS and what runs it.")
COMPONENTS = ["Web app", "Public API", "PostgreSQL", "Object storage", "Identity provider"]
# Library templates of these categories are adopted; a few are left for the user to adopt.
ADOPT_CATEGORIES = ("security", "availability", "confidentiality")
LEAVE_OUT_EVERY = 2  # every second template stays in the library: gaps for the demo


def demo_seed(organization: Organization) -> None:
    manager = demo_member(organization, Role.COMPLIANCE_MANAGER)
    contributor = demo_member(organization, Role.CONTRIBUTOR)
    lead = demo_member(organization, Role.OWNER)
    if manager is None:
        return
    system = System.objects.for_org(organization).filter(name=SYSTEM[0]).first()
    if system is None:
        system = systems.system_save(
            membership=manager,
            name=SYSTEM[0],
            description=SYSTEM[1],
            owner=manager,
            components=COMPONENTS,
        )
    today = timezone.localdate()
    window_start = add_months(today.replace(day=1), -9)
    if not Control.objects.for_org(organization).exists():
        _controls(organization, manager, contributor, lead, operating_since=window_start)
    # Two weeks of automated tests from the organization's own CI job (monitoring sits above),
    # before the audits: each run is evidence their self-assessment is drawn from.
    from monitoring.demo import demo_seed_monitoring

    demo_seed_monitoring(organization)
    # The roster and its joiners' and leavers' checklists (people sits above us too), also
    # before the audits: a checklist item done late is an exception their self-assessment
    # is drawn with.
    from people.demo import demo_seed_people

    demo_seed_people(organization)
    # Five vendors, one SOC 2 report stale, also before the audits: their reviews are
    # evidence on the CC9.2 controls (vendors.evidence) the self-assessment is drawn from.
    from vendors.demo import demo_seed_vendors

    demo_seed_vendors(organization)
    # A scored register (one acceptance expired) and a risk assessment three weeks ago, also
    # before the audits: it is evidence on the CC3.x controls the self-assessment is drawn from.
    from risks.demo import demo_seed_risks

    demo_seed_risks(organization)
    _audit(
        manager,
        name="SOC 2 Type 2 (demo)",
        audit_type="type2",
        window_start=window_start,
        window_end=add_months(window_start, 12) - dt.timedelta(days=1),
        categories=["availability"],
        system=system,
    )
    _deviation(manager, "SOC 2 Type 2 (demo)")
    _audit(
        manager,
        name="SOC 2 Type 1 (demo)",
        audit_type="type1",
        as_of_date=today - dt.timedelta(days=14),
        categories=["confidentiality"],
        system=system,
    )
    # The auditor portal's part: a grant and requests for information (reports sits above us).
    from reports.demo import demo_seed_requests, demo_seed_samples

    demo_seed_requests(organization)
    demo_seed_samples(organization)
    from policies.demo import demo_seed_policies  # two approved policies, partly accepted

    demo_seed_policies(organization)
    # Today's readiness snapshot, as the daily job would take it: the audits list and the
    # home show each audit's score from the first visit.
    from controls.history import readiness_snapshot_take

    for audit in Audit.objects.for_org(organization):
        readiness_snapshot_take(audit=audit)


def _deviation(manager: Membership, audit_name: str) -> None:
    """One exception of the Type 2 audit gets a recorded deviation with the management
    response, as the exceptions list of a SOC 2 report would show it."""
    from controls.deviations import deviation_record
    from controls.readiness import audit_readiness

    org = manager.organization
    audit = Audit.objects.for_org(org).filter(name=audit_name).first()
    if audit is None or Deviation.objects.for_org(org).exists():
        return
    readiness = audit_readiness(audit)
    exception = next(
        (
            e
            for e in readiness.exceptions
            if e.control.status == ControlStatus.IMPLEMENTED
            and e.kind == "missing"
            and e.control.frequency in ("monthly", "quarterly", "semi_annual", "annual")
        ),
        None,
    )
    if exception is None:
        return
    deviation_record(
        membership=manager,
        control=exception.control,
        period_start=exception.period.start,
        period_end=exception.period.end,
        what_happened="The control was not performed in this period.",
        cause="Its owner was on leave and no deputy had been named.",
        remediation="Performed as soon as the owner returned; a deputy is now named for "
        "every recurring control.",
        remediation_date=exception.period.end + dt.timedelta(days=20),
    )


def demo_member(organization: Organization, role: str) -> Membership | None:
    return (
        Membership.objects.for_org(organization)
        .filter(role=role)
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )


def _controls(organization, manager, contributor, lead, *, operating_since: dt.date) -> None:
    framework = framework_get()
    templates = list(
        ControlTemplate.objects.filter(
            library__framework=framework, criteria__category__key__in=ADOPT_CATEGORIES
        )
        .distinct()
        .order_by("position")
        .prefetch_related("criteria")
    )
    chosen = [t for i, t in enumerate(templates) if i % LEAVE_OUT_EVERY != LEAVE_OUT_EVERY - 1]
    adopted = services.controls_adopt(membership=manager, templates=chosen).adopted
    rules = {r.frequency: r for r in FrequencyRule.objects.all()}
    today = timezone.localdate()
    # Controls the demo's automated tests check (monitoring sits above): their daily runs keep
    # their evidence current, so none of them is one of the stale ones. Nor is any control
    # the demo's approved policies support (policies sit above): their approval is evidence.
    from monitoring.demo import CHECKS
    from policies.demo import supported_codes

    tested = set(
        ControlCriterion.objects.for_org(organization)
        .filter(criterion__ref__in={ref for spec in CHECKS for ref in spec.criteria})
        .values_list("control_id", flat=True)
    ) | {c.pk for c in adopted if c.code in supported_codes()}
    untested = 0
    for index, control in enumerate(adopted):
        owner = contributor if contributor is not None and index % 3 == 0 else manager
        status = _status_for(index)
        changes = {"owner": owner, "status": status}
        if status == ControlStatus.NOT_APPLICABLE:
            changes["na_justification"] = "No physical office: all staff are remote."
        if status in (ControlStatus.NOT_STARTED, ControlStatus.IN_PROGRESS) and index % 5 < 3:
            # Implementation dates, some passed and one ahead: the home's to-do lists.
            changes["due_date"] = today + dt.timedelta(days=(-14, -7, 10)[index % 5])
        services.control_update(membership=manager, control=control, **changes)
        if status == ControlStatus.IMPLEMENTED:
            # Segregation of duties: whoever uploads, someone else reviews.
            reviewer = manager if owner != manager else lead
            untested += control.pk not in tested
            _evidence(
                owner,
                reviewer,
                control,
                rules.get(control.frequency),
                today,
                index,
                # Every fifth control without automated tests stopped producing evidence.
                goes_stale=control.pk not in tested and untested % 5 == 1,
            )
    # The program ran before anyone typed it in: implemented controls are dated to when they
    # began operating (a month before the Type 2 window), the rest to a recent adoption.
    began = timezone.make_aware(
        dt.datetime.combine(operating_since - dt.timedelta(days=30), dt.time(9))
    )
    adopted_recently = timezone.now() - dt.timedelta(days=45)
    implemented = [c.pk for c in adopted if c.status == ControlStatus.IMPLEMENTED]
    Control.objects.for_org(organization).filter(pk__in=implemented).update(
        created_at=began, updated_at=began
    )
    Control.objects.for_org(organization).filter(pk__in=[c.pk for c in adopted]).exclude(
        pk__in=implemented
    ).update(created_at=adopted_recently)


def _status_for(index: int) -> str:
    if index == 7:
        return ControlStatus.NOT_APPLICABLE
    return {
        0: ControlStatus.NOT_STARTED,
        1: ControlStatus.IN_PROGRESS,
        2: ControlStatus.NOT_STARTED,
        3: ControlStatus.IN_PROGRESS,
    }.get(index % 7, ControlStatus.IMPLEMENTED)


def _evidence(
    uploader: Membership,
    reviewer: Membership | None,
    control: Control,
    rule: FrequencyRule | None,
    today: dt.date,
    index: int,
    *,
    goes_stale: bool = False,
) -> None:
    """Evidence for the last nine months, one piece per period of the control's frequency
    (monthly exports for daily or continuous controls). Some periods are left empty, the
    newest piece of some controls awaits review, and a few controls' evidence is old."""
    start = add_months(today.replace(day=1), -9)
    end = today - dt.timedelta(days=1)
    if rule is None or rule.period_unit == "day" or control.frequency == "continuous":
        periods = split_window(start, end, "month", 1)
    else:
        periods = split_window(start, end, rule.period_unit, rule.period_length)
    # A few recurring controls stopped producing evidence after the window's first period:
    # stale today, the kind of thing a home page exists to point at.
    if len(periods) >= 3 and goes_stale:
        periods = periods[:1]
    item = None  # one evidence item per control, a new version each period
    for number, period in enumerate(periods):
        if index % 9 == 4 and number == len(periods) // 2:
            continue  # a missing period: the Type 2 coverage shows the hole
        if control.frequency in ("daily", "continuous", "weekly"):
            version = evidence_services.evidence_push_data(
                membership=uploader,
                control=control,
                data={
                    "check": control.title,
                    "period": [period.start.isoformat(), period.end.isoformat()],
                    "runs": (period.end - period.start).days + 1,
                    "failures": 0,
                },
                effective_start=period.start,
                effective_end=period.end,
                item=item,
                title=f"{control.code} monitoring export",
            )
        else:
            version = evidence_services.evidence_add_link(
                membership=uploader,
                control=control,
                url=f"https://docs.acme.example.com/evidence/{control.code.lower()}/{period.start:%Y-%m}",
                effective_start=period.start,
                effective_end=period.end,
                item=item,
                title=f"{control.code} {control.title}"[:200],
            )
        item = version.item
        pending = number == len(periods) - 1 and index % 4 == 2
        if not pending and reviewer is not None:
            evidence_services.evidence_review(
                membership=reviewer, version=version, decision=ReviewState.ACCEPTED
            )


def _audit(manager, *, name: str, categories: list[str], system: System, **values) -> None:
    org = manager.organization
    if Audit.objects.for_org(org).filter(name=name).exists():
        return
    audit = audit_services.audit_save(
        membership=manager,
        name=name,
        status="readiness",
        categories=categories,
        systems=[system.pk],
        **values,
    )
    # The self-assessment agrees with what the controls and their evidence show.
    from controls.readiness import audit_readiness

    answer_for = {
        "met": (Answer.IN_PLACE, ""),
        "partial": (Answer.PARTLY, "Controls in place; evidence or implementation incomplete."),
        "gap": (Answer.NOT_IN_PLACE, ""),
    }
    answers = {
        row.criterion.ref: answer_for[row.status]
        for row in audit_readiness(audit).criteria
        if row.status in answer_for
    }
    audit_services.self_assessment_save(membership=manager, audit=audit, answers=answers)
    logger.info("demo audit %s created", audit.name)
