"""What the readiness dashboard shows, from the engine's results: the next actions (capped),
the criteria grouped by status and filtered by category, owner and "only what is missing",
and one compact coverage row per control (its periods load on demand). No query: everything
comes from ``controls.readiness.audit_readiness``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.http import QueryDict

from controls.readiness_actions import NextAction, next_actions
from controls.readiness_types import AuditReadiness, CriterionReadiness, Status

ACTIONS_SHOWN = 10  # the rest behind "and N more": the criteria list, filtered
NO_OWNER = "-"  # the owner filter's value for work nobody owns

GROUPS = (
    (Status.GAP, "Gaps", False),
    (Status.PARTIAL, "Partly met", False),
    (Status.MET, "Met", True),  # collapsed: nothing to do there
    (Status.NOT_APPLICABLE, "Not applicable", True),
)


class DashboardFilterForm(forms.Form):
    """The criteria filters (GET): unknown values are ignored, never an error page."""

    category = forms.ChoiceField(required=False, label="Category")
    owner = forms.ChoiceField(required=False, label="Owner")
    show = forms.ChoiceField(
        required=False,
        label="Only what is missing",
        choices=[("", "Everything"), ("open", "Only what is missing")],
    )

    def __init__(self, data: QueryDict, *, readiness: AuditReadiness) -> None:
        super().__init__(data)
        self.fields["category"].choices = [("", "Any category")] + [
            (c.key, c.name) for c in readiness.categories
        ]
        owners = sorted(
            {
                c.control.owner.user.email
                for c in readiness.controls.values()
                if c.control.owner_id and c.control.is_applicable
            }
        )
        self.fields["owner"].choices = [
            ("", "Any owner"),
            *((o, o) for o in owners),
            (NO_OWNER, "No owner"),
        ]

    def value(self, name: str) -> str:
        """The field's valid value, or "" (any)."""
        self.is_valid()  # fills cleaned_data with the fields that are valid
        return self.cleaned_data.get(name, "")


@dataclass
class CriteriaGroup:
    status: str
    label: str
    collapsed: bool
    rows: list[CriterionReadiness] = field(default_factory=list)


def _owner_matches(owners: list[str], owner: str) -> bool:
    return not owners if owner == NO_OWNER else owner in owners


def _criterion_matches(r: CriterionReadiness, category: str, owner: str) -> bool:
    if category and r.criterion.category.key != category:
        return False
    return not owner or _owner_matches(r.owners, owner)


def _action_matches(a: NextAction, category: str, owner: str) -> bool:
    if category and category not in a.categories:
        return False
    if owner == NO_OWNER:
        return not a.owner
    return not owner or a.owner == owner


def coverage_rows(readiness: AuditReadiness) -> list[dict]:
    """Type 2: one compact row per applicable control (its periods load when opened)."""
    rows = []
    for c in sorted(readiness.applicable_controls, key=lambda r: r.control.code):
        rows.append(
            {
                "control": c.control,
                "covered": len(c.covered_periods),
                "total": len(c.periods),
                "sample": c.sample,
                "flags": len(c.flags),
                "exceptions": len(c.exceptions),
            }
        )
    return rows


def dashboard(readiness: AuditReadiness, params: QueryDict, *, slug: str, today: dt.date) -> dict:
    """The template context of the dashboard's triage parts."""
    form = DashboardFilterForm(params, readiness=readiness)
    category, owner, show = form.value("category"), form.value("owner"), form.value("show")
    actions = [
        a
        for a in next_actions(readiness, slug=slug, today=today)
        if _action_matches(a, category, owner)
    ]
    groups = {
        status: CriteriaGroup(status, label, collapsed) for status, label, collapsed in GROUPS
    }
    shown = 0
    for r in readiness.criteria:
        if not _criterion_matches(r, category, owner):
            continue
        if show == "open" and r.status not in (Status.GAP, Status.PARTIAL):
            continue
        groups[r.status].rows.append(r)
        shown += 1
    more = params.copy()
    more["show"] = "open"
    return {
        "filter_form": form,
        "filtered": bool(category or owner or show),
        "actions": actions[:ACTIONS_SHOWN],
        "actions_more": max(len(actions) - ACTIONS_SHOWN, 0),
        "actions_more_query": more.urlencode(),
        "groups": [g for g in groups.values() if g.rows],
        "criteria_shown": shown,
        "show": show,
    }
