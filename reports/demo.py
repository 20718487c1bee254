"""Demo data of the auditor portal for ``seed_demo``: the demo auditor is granted the Type 1
demo audit and has raised two requests for information, one answered with evidence. Through
the services, like the rest of the demo; idempotent (an audit with requests is left alone)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from controls.models import Audit
from reports import pbc, selectors
from reports.models import InfoRequest
from reports.services import auditor_access_grant
from tenants.models import Membership, Organization, Role

logger = logging.getLogger(__name__)

AUDIT_NAME = "SOC 2 Type 1 (demo)"


def _first(organization: Organization, role: str) -> Membership | None:
    return (
        Membership.objects.for_org(organization)
        .filter(role=role)
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )


def demo_seed_requests(organization: Organization, *, audit_name: str = AUDIT_NAME) -> None:
    manager = _first(organization, Role.COMPLIANCE_MANAGER)
    auditor = _first(organization, Role.AUDITOR)
    audit = Audit.objects.for_org(organization).filter(name=audit_name).first()
    if manager is None or auditor is None or not auditor.is_active or audit is None:
        return
    if InfoRequest.objects.for_org(organization).filter(audit=audit).exists():
        return
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    today = timezone.localdate()
    versions = selectors.answerable_versions(audit, limit=1)
    control = versions[0].item.control if versions else None
    answered = pbc.request_raise(
        membership=auditor,
        audit=audit,
        title=f"Latest evidence for {control.code}" if control else "Your access review",
        details="The most recent evidence, with the period it covers.",
        due_date=today + dt.timedelta(days=7),
        control=control,
    )
    if versions:
        pbc.request_answer(
            membership=manager,
            request=answered,
            version_ids=[versions[0].pk],
            note="This is the version current on the audit's as-of date.",
        )
        pbc.comment_add(
            membership=auditor, request=answered, body="Thank you, we are reviewing it."
        )
    pbc.request_raise(
        membership=auditor,
        audit=audit,
        title="Population of user access changes",
        details="All access grants and removals during the period, with their tickets.",
        due_date=today + dt.timedelta(days=21),
    )
    logger.info("demo requests for information raised on %s", audit.name)


TYPE2_NAME = "SOC 2 Type 2 (demo)"
DEMO_SEED = "demo-seed-0001"


def demo_seed_samples(organization: Organization, *, audit_name: str = TYPE2_NAME) -> None:
    """A population of 40 new hires on the Type 2 demo audit, a seeded sample of 5 drawn by the
    demo auditor, one request answered with evidence and the results: two items without
    exception, one exception. Idempotent (an audit with populations is left alone)."""
    from reports import populations, samples, selectors_sampling
    from reports.models import Population

    manager = _first(organization, Role.COMPLIANCE_MANAGER)
    auditor = _first(organization, Role.AUDITOR)
    audit = Audit.objects.for_org(organization).filter(name=audit_name).first()
    if manager is None or auditor is None or not auditor.is_active or audit is None:
        return
    if Population.objects.for_org(organization).filter(audit=audit).exists():
        return
    control = selectors.audit_scope_controls(audit).order_by("code").first()
    if control is None:
        return
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    lines = ["id,date,description"] + [
        f"HR-{1000 + i},{audit.window_start + dt.timedelta(days=6 * i)},New hire {i + 1} "
        f"(onboarding checklist and access request)"
        for i in range(40)
    ]
    population = populations.population_upload_csv(
        membership=manager,
        audit=audit,
        control=control,
        data=("\n".join(lines) + "\n").encode(),
        name="new-hires.csv",
    )
    sample = samples.sample_draw(membership=auditor, population=population, seed=DEMO_SEED)
    items = list(selectors_sampling.sample_items(sample))
    versions = selectors.answerable_versions(audit, first_control_id=control.pk, limit=1)
    if versions:
        pbc.request_answer(
            membership=manager,
            request=items[0].request,
            version_ids=[versions[0].pk],
            note="The signed onboarding checklist for this hire.",
        )
    samples.sample_item_test(membership=auditor, item=items[0], result="no_exception")
    samples.sample_item_test(membership=auditor, item=items[1], result="no_exception")
    samples.sample_item_test(
        membership=auditor,
        item=items[2],
        result="exception",
        note="Access was granted two days before the manager's approval.",
    )
    logger.info("demo population and sample on %s", audit.name)
