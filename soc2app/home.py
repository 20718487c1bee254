"""The organization's home: a to-do list per role.

Everyone sees *their* work first (``soc2app.todo``: what the installed apps registered),
most urgent first, each item one click from where it is done. A contributor then sees "my
controls"; people who run the program (``Action.AUDIT_MANAGE``) see each open audit with
its readiness trend, next date and journey checklist, and overdue work by owner. Auditors
never get here: the middleware keeps them in the portal.

Constant number of queries whatever the data size (asserted in tests/soc2app/test_home.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from soc2app.todo import TodoItem, todo_for
from tenants import permissions, selectors
from tenants.permissions import Action

TODO_FIRST = 10  # shown open; the next ones behind "Show N more" (a <details>, no script)
TODO_SHOWN = 30  # the rest is on the evidence overview and the control list
MINE_SHOWN = 50  # "my controls": the rest on the control list filtered to the member's own
RECENT_ACTIVITY = 5  # one line each; the full log is a click away


@dataclass(frozen=True)
class OwnerLoad:
    owner: str  # email, "" for work nobody owns
    controls: int
    evidence: int

    @property
    def total(self) -> int:
        return self.controls + self.evidence


def _overdue_by_owner(org_id: int, today: dt.date) -> list[OwnerLoad]:
    from controls.home import overdue_controls_by_owner
    from evidence.todo import late_evidence_by_owner

    controls = overdue_controls_by_owner(org_id, today)
    evidence = late_evidence_by_owner(org_id, today)
    rows = [
        OwnerLoad(owner, controls.get(owner, 0), evidence.get(owner, 0))
        for owner in set(controls) | set(evidence)
    ]
    return sorted(rows, key=lambda r: (-r.total, r.owner == "", r.owner))


def org_home(request: HttpRequest, org_slug: str) -> HttpResponse:
    org, membership = request.organization, request.membership
    today = timezone.localdate()
    items: list[TodoItem] = todo_for(membership, today=today)
    runs_program = permissions.can(membership, Action.AUDIT_MANAGE)
    context = {
        "todo": items[:TODO_FIRST],
        "todo_rest": items[TODO_FIRST:TODO_SHOWN],
        "todo_more": max(len(items) - TODO_SHOWN, 0),
        "overdue_count": sum(1 for i in items if i.is_overdue),
        "runs_program": runs_program,
        "today": today,
    }
    if runs_program:
        from controls.home import program

        context["program"] = program(org.pk, org.slug, today)
        context["overdue_by_owner"] = _overdue_by_owner(org.pk, today)
        context["member_count"] = selectors.members_list(org).count()
    else:
        from evidence.todo import controls_with_evidence_state

        mine = controls_with_evidence_state(membership)
        # Bounded, so the page stays small for someone who owns hundreds of controls.
        context["my_controls"] = mine[:MINE_SHOWN]
        context["my_controls_more"] = max(len(mine) - MINE_SHOWN, 0)
    if permissions.can(membership, Action.ACTIVITY_VIEW):
        from tenants.activity_display import present_entries

        recent = selectors.activity_list(org)[:RECENT_ACTIVITY]
        context["recent_activity"] = present_entries(recent, org)
    return render(request, "tenants/org_home.html", context)
