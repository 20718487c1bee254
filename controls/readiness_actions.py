"""Next actions of an audit's readiness dashboard, derived from the engine's results.

Each action is one thing a person can do, linked to the page where it is done, with its owner
and due date, built from the same structured results the reasons are written from (no text is
parsed):

- a criterion with no applicable control mapped: choose one from the library (no owner yet);
- a mapped control not implemented: implement it, due on the control's due date;
- an implemented control whose evidence does not count (Type 1: none valid on the as-of
  date; Type 2: an ended period without accepted evidence, or none yet): add evidence, due on
  the as-of date or on the end of the first period still missing it;
- an implemented control whose automated tests fail now (its latest system-generated
  evidence reports a failure): fix the failing tests, on the control's Tests section;
- a Type 2 control with a failed sample item, or a period in which its automated tests
  failed, and no recorded deviation: record the management response.

One action per control. Urgency and "overdue" are the to-do list's (``controls.todo``); an
action that keeps a criterion from being met comes before one that does not, at equal urgency.
No query: the URLs are reversed, everything else is in the readiness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode

from controls.models import ControlStatus
from controls.readiness_types import (
    AuditReadiness,
    ControlReadiness,
    CriterionReadiness,
    ExceptionKind,
    Status,
)
from controls.todo import urgency_for
from soc2app.todo import TodoItem, Urgency, sort_key


@dataclass(frozen=True)
class NextAction(TodoItem):
    # The criteria in scope it helps (references) and their category keys, for the filters.
    criteria: tuple[str, ...] = ()
    categories: frozenset[str] = frozenset()
    blocks: bool = False  # one of those criteria is not met because of it


def _refs(rows: list[CriterionReadiness]) -> str:
    refs = [r.criterion.ref for r in rows]
    return ", ".join(refs[:4]) + (f" and {len(refs) - 4} more" if len(refs) > 4 else "")


def evidence_due(c: ControlReadiness, readiness: AuditReadiness) -> dt.date | None:
    """When the control's evidence is due: Type 1, the as-of date; Type 2, the end of the first
    ended period that misses it, else the end of the first period still to come."""
    audit = readiness.audit
    if not audit.is_type2:
        return audit.as_of_date
    missing = c.missing_periods
    if missing:
        return missing[0].end
    upcoming = c.upcoming_periods
    return upcoming[0].end if upcoming else None


def _what_is_missing(c: ControlReadiness, readiness: AuditReadiness) -> str:
    """The evidence gap in a few words (the reasons have the full sentence)."""
    audit = readiness.audit
    if not audit.is_type2:
        what = f"No evidence valid on {audit.as_of_date:%d %b %Y}"
    elif c.missing_periods:
        ended = f"{c.periods_ended} ended period{'s' if c.periods_ended != 1 else ''}"
        what = f"{len(c.missing_periods)} of {ended} without evidence"
    else:
        what = "No evidence in the window yet"
    return f"{what}; {c.pending} awaiting review" if c.pending else what


def _control_action(
    c: ControlReadiness,
    rows: list[CriterionReadiness],
    readiness: AuditReadiness,
    slug: str,
    today: dt.date,
) -> NextAction | None:
    control = c.control
    name = f"{control.code} {control.title}"
    common = {
        "owner": control.owner.user.email if control.owner_id else "",
        "criteria": tuple(r.criterion.ref for r in rows),
        "categories": frozenset(r.criterion.category.key for r in rows),
        "blocks": any(r.status != Status.MET for r in rows),
    }
    helps = _refs(rows)
    if control.status != ControlStatus.IMPLEMENTED:
        return NextAction(
            kind="control.implement",
            title=f"Implement {name}",
            url=reverse("control_detail", kwargs={"org_slug": slug, "pk": control.pk}),
            urgency=urgency_for(control.due_date, today),
            due=control.due_date,
            detail=f"{control.get_status_display()} · {helps}",
            **common,
        )
    if c.failing_tests:
        url = reverse("control_detail", kwargs={"org_slug": slug, "pk": control.pk})
        more = len(c.failing_tests) - 1
        return NextAction(
            kind="test.fix",
            title=f"Fix the failing tests of {control.code}",
            url=f"{url}#tests",
            urgency=Urgency.TODO,
            detail=f"{c.failing_tests[0]}{f' (and {more} more)' if more else ''} · {helps}",
            **common,
        )
    if c.missing_periods or (not c.evidence_ok and not c.failures):
        due = evidence_due(c, readiness)
        return NextAction(
            kind="evidence.add",
            title=f"Add evidence for {name}",
            url=reverse("evidence_add", kwargs={"org_slug": slug, "control_pk": control.pk}),
            urgency=urgency_for(due, today),
            due=due,
            detail=f"{_what_is_missing(c, readiness)} · {helps}",
            **common,
        )
    failed = [
        e
        for e in c.exceptions
        if e.kind in (ExceptionKind.FAILED, ExceptionKind.TEST_FAILED) and e.deviation is None
    ]
    if failed:
        first = failed[0].period
        query = urlencode({"period_start": first.start, "period_end": first.end})
        url = reverse("deviation_create", kwargs={"org_slug": slug, "pk": control.pk})
        return NextAction(
            kind="exception.respond",
            title=f"Record the management response for {control.code}",
            url=f"{url}?{query}",
            urgency=Urgency.TODO,
            detail=f"{_failed_what(failed)}, no deviation recorded · {helps}",
            **common,
        )
    return None


def _failed_what(failed: list) -> str:
    samples = sum(1 for e in failed if e.kind == ExceptionKind.FAILED)
    periods = len(failed) - samples
    parts = [f"{samples} failed in sample testing"] if samples else []
    if periods:
        parts.append(f"automated tests failed in {periods} period{'s' if periods != 1 else ''}")
    return " and ".join(parts)


def _criterion_action(r: CriterionReadiness, slug: str) -> NextAction:
    criterion = r.criterion
    url = reverse("library", kwargs={"org_slug": slug})
    return NextAction(
        kind="criterion.unmapped",
        title=f"Choose a control for {criterion.ref} {criterion.title}",
        url=f"{url}?{urlencode({'criterion': criterion.ref})}",
        urgency=Urgency.TODO,
        detail="No control is mapped"
        if not r.controls
        else "Every mapped control is marked not applicable",
        criteria=(criterion.ref,),
        categories=frozenset({criterion.category.key}),
        blocks=True,
    )


def next_actions(readiness: AuditReadiness, *, slug: str, today: dt.date) -> list[NextAction]:
    """Every next action of ``readiness``, most urgent first (see the module docstring)."""
    criteria_of: dict[int, list[CriterionReadiness]] = {}
    actions: list[NextAction] = []
    for r in readiness.criteria:
        if r.status == Status.NOT_APPLICABLE:
            continue
        applicable = [c for c in r.controls if c.control.is_applicable]
        if not applicable:
            actions.append(_criterion_action(r, slug))
        for c in applicable:
            criteria_of.setdefault(c.control.pk, []).append(r)
    for pk, rows in criteria_of.items():
        action = _control_action(readiness.controls[pk], rows, readiness, slug, today)
        if action is not None:
            actions.append(action)
    # Urgency first, then what keeps a criterion from being met, then the to-do list's order.
    actions.sort(key=sort_key)
    actions.sort(key=lambda a: (a.urgency, not a.blocks))
    return actions
