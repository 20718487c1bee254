"""How long a vendor document counts, and how often a vendor is reviewed: rules as data.

The defaults live here, in one place; an organization may change them (``VendorRules``, one
row per organization, edited on Vendors → Rules and through the API: ``services_rules``).
``rules_for(org)`` reads them in one query (the defaults while the organization has no row;
reading never writes), and every reader goes through it: the list, the vendor page, the
to-do list, review scheduling and the CC9.2 evidence. Statuses are computed when read, so a
change of the rules shows at once.

- A SOC 2 report is current until its period end + ``soc2_months``, unless a bridge letter
  covers the gap: a bridge letter covers up to its own date (``period_end``) and counts for
  ``bridge_months`` after it, so the report stays current until the later of the two.
- A DPA is current until the contract ends (no end date: no expiry).
- A security questionnaire is current for ``questionnaire_months`` after it was uploaded.
- A certificate is current until its stated expiry (none given: no expiry).
- "Expiring" means current but running out within ``expiring_days``.
- A critical vendor without any SOC 2 report is "missing SOC 2".

The selectors read, per vendor, the latest date of each kind in one aggregate query and apply
``valid_until`` to it, so the list, the filters and the to-do list agree with the vendor page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from controls.periods import add_months
from vendors.models_rules import VendorRules


def _review_months() -> dict[str, int]:
    return {"critical": 12, "high": 12, "medium": 24, "low": 36}


@dataclass(frozen=True)
class FreshnessRules:
    soc2_months: int = 12
    bridge_months: int = 3
    questionnaire_months: int = 12
    expiring_days: int = 30
    # The next review after a review, in months, by the vendor's criticality.
    review_months: dict[str, int] = field(default_factory=_review_months)

    def next_review(self, criticality: str, reviewed_on: dt.date) -> dt.date:
        return add_months(reviewed_on, self.review_months.get(criticality, 12))


DEFAULT_RULES = FreshnessRules()
CRITICALITIES = ("critical", "high", "medium", "low")  # most critical first


def from_row(row: VendorRules | None) -> FreshnessRules:
    if row is None:
        return DEFAULT_RULES
    return FreshnessRules(
        soc2_months=row.soc2_months,
        bridge_months=row.bridge_months,
        questionnaire_months=row.questionnaire_months,
        expiring_days=row.expiring_days,
        review_months={c: getattr(row, f"review_months_{c}") for c in CRITICALITIES},
    )


def as_fields(rules: FreshnessRules) -> dict[str, int]:
    """The rules as ``VendorRules`` field values."""
    return {
        "soc2_months": rules.soc2_months,
        "bridge_months": rules.bridge_months,
        "questionnaire_months": rules.questionnaire_months,
        "expiring_days": rules.expiring_days,
        **{f"review_months_{c}": rules.review_months.get(c, 12) for c in CRITICALITIES},
    }


def rules_for(organization: object) -> FreshnessRules:
    """An organization's rules (an organization or its id): one query, no write."""
    return from_row(VendorRules.objects.for_org(organization).first())


def rules_row_read(organization: object) -> VendorRules:
    """The organization's row for the settings page and API, which write nothing: the stored
    one, or the defaults unsaved (the row is created by the first change). One query."""
    found = VendorRules.objects.for_org(organization).first()
    if found is not None:
        return found
    return VendorRules(
        organization_id=getattr(organization, "pk", organization), **as_fields(DEFAULT_RULES)
    )


def rules_row_locked(organization: object) -> VendorRules:
    """The organization's row, created with the defaults when absent and locked until the
    caller's transaction ends: for a change (``services_rules``). Two concurrent first changes
    create one row (the one-per-organization constraint: the loser reads the winner's)."""
    locked = VendorRules.objects.for_org(organization).select_for_update()
    found = locked.first()
    if found is not None:
        return found
    VendorRules.objects.for_org(organization).get_or_create(
        organization_id=getattr(organization, "pk", organization), defaults=as_fields(DEFAULT_RULES)
    )
    return locked.get()


def valid_until(
    rules: FreshnessRules,
    kind: str,
    *,
    period_end: dt.date | None,
    expires_on: dt.date | None,
    uploaded_on: dt.date,
    contract_end: dt.date | None,
    bridge_end: dt.date | None = None,
) -> dt.date | None:
    """The last day a document counts (None: no expiry). ``bridge_end``: the latest bridge
    letter's date, for a SOC 2 report."""
    if kind == "soc2_report" and period_end:
        own = add_months(period_end, rules.soc2_months)
        if bridge_end and bridge_end > period_end:
            return max(own, add_months(bridge_end, rules.bridge_months))
        return own
    if kind == "bridge_letter" and period_end:
        return add_months(period_end, rules.bridge_months)
    if kind == "dpa":
        return contract_end
    if kind == "questionnaire":
        return add_months(uploaded_on, rules.questionnaire_months)
    if kind == "certificate":
        return expires_on
    return None


def status_of(rules: FreshnessRules, until: dt.date | None, today: dt.date) -> str:
    """current, expiring or stale, for a document counting until ``until``."""
    if until is None:
        return "current"
    if until < today:
        return "stale"
    if until < today + dt.timedelta(days=rules.expiring_days):
        return "expiring"
    return "current"
