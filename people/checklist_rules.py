"""Pure rules of the joiners' and leavers' checklists: the default templates (data written
for this project), due dates (calendar or business days), and which dates open a checklist.

**The default templates.** Each item names the control it evidences by the starter library's
code (``controls/data/library.yaml``); an organization whose control has another code is
matched by the library template the control was adopted from, then by criterion: the first
control (by code) mapped to one of the item's criteria whose title has one of the item's
words ("background", "terminat" ...), so that a neighbouring control of the same criterion
(job descriptions, CC1.4) is never taken for the right one (background checks, CC1.4). An
item whose control cannot be found has none (a manager picks one on the template page). The
item's owner is that control's owner.

**Opening.** A checklist opens for a person whose start date (onboarding) or end date
(offboarding) is on or after ``today - OPEN_LOOKBACK_DAYS``: new joiners and leavers, and
those recorded a little late, but not a first roster load of people who joined or left long
ago (whose every item would be an overdue exception on the first day). The same rule applies
when an organization's template is first needed: the people already on the roster within
that window get theirs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from people.models_checklists import ChecklistKind

OPEN_LOOKBACK_DAYS = 90
MAX_ITEMS = 40
DUE_MIN, DUE_MAX = -90, 365  # the database's check constraint on due_days
TITLE_MAX = 200
NOTE_MAX = 500
# An item may be recorded as done this many days before its checklist's date at most (a
# background check weeks before the start date), never in the future.
DONE_EARLIEST_DAYS = 90


@dataclass(frozen=True)
class DefaultItem:
    title: str
    due_days: int
    description: str = ""
    business_days: bool = False
    control_code: str = ""  # the starter library's code
    # Fallback when no control has that code or template: a control mapped to one of these
    # criteria whose title contains one of ``words`` (lower-case).
    criteria: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    evidence_required: bool = False


TITLES = {
    ChecklistKind.ONBOARDING: "Onboarding (joiners)",
    ChecklistKind.OFFBOARDING: "Offboarding (leavers)",
}

DEFAULTS: dict[str, tuple[DefaultItem, ...]] = {
    ChecklistKind.ONBOARDING: (
        DefaultItem(
            "Background check completed",
            -5,
            "Identity, right to work and references checked before the first day, as the "
            "role requires.",
            control_code="HR-01",
            criteria=("CC1.4",),
            words=("background",),
            evidence_required=True,
        ),
        DefaultItem(
            "Confidentiality agreement (NDA) signed",
            -1,
            "Signed before the first day; the signed copy attached.",
            control_code="HR-05",
            criteria=("C1.1", "CC1.1"),
            words=("confidentiality agreement", "non-disclosure"),
            evidence_required=True,
        ),
        DefaultItem(
            "Accounts granted per least privilege",
            1,
            "Only the accounts and groups the role needs, each requested and approved.",
            control_code="IAM-04",
            criteria=("CC6.2",),
            words=("access request", "provision"),
        ),
        DefaultItem(
            "Policies accepted",
            14,
            "The information security policies assigned to them, accepted.",
            control_code="HR-04",
            criteria=("CC1.1", "CC2.2"),
            words=("polic",),
        ),
        DefaultItem(
            "Security awareness training done",
            30,
            "The security awareness training completed.",
            control_code="HR-03",
            criteria=("CC1.4", "CC2.2"),
            words=("security awareness",),
        ),
    ),
    ChecklistKind.OFFBOARDING: (
        DefaultItem(
            "Accounts revoked",
            1,
            "Identity provider account disabled and sessions ended; access to every system "
            "they held removed.",
            business_days=True,
            control_code="IAM-05",
            criteria=("CC6.2", "CC6.3"),
            words=("terminat", "revok", "leaver", "offboard"),
            evidence_required=True,
        ),
        DefaultItem(
            "Shared secrets they knew reviewed and rotated",
            3,
            "Shared passwords, keys and tokens they could read rotated or confirmed unused.",
            control_code="IAM-11",
            criteria=("CC6.1", "CC6.2"),
            words=("secrets and", "credentials"),
        ),
        DefaultItem(
            "Company equipment returned",
            5,
            "Laptop, tokens and badges returned, or the device locked and wiped remotely.",
            control_code="AM-04",
            criteria=("CC6.5", "CC6.4"),
            words=("returned", "departure"),
        ),
        DefaultItem(
            "Work and data handed over",
            5,
            "Their manager confirms that documents and duties were handed over.",
        ),
    ),
}


def due_date(anchor: dt.date, due_days: int, business_days: bool) -> dt.date:
    """``anchor`` moved by ``due_days`` (negative: before); business days skip Saturdays and
    Sundays (a 0-business-day deadline stays on the anchor, whatever day it is)."""
    if not business_days:
        return anchor + dt.timedelta(days=due_days)
    step = dt.timedelta(days=1 if due_days >= 0 else -1)
    day, left = anchor, abs(due_days)
    while left:
        day += step
        if day.weekday() < 5:
            left -= 1
    return day


def opens(anchor: dt.date | None, today: dt.date) -> bool:
    """Whether a date (a start or an end) opens a checklist today."""
    return anchor is not None and anchor >= today - dt.timedelta(days=OPEN_LOOKBACK_DAYS)


def done_on_problem(done_on: dt.date | None, anchor: dt.date, today: dt.date) -> str | None:
    if done_on is None:
        return "Give the day it was done (YYYY-MM-DD)."
    if done_on > today:
        return "The day it was done cannot be in the future."
    earliest = anchor - dt.timedelta(days=DONE_EARLIEST_DAYS)
    if done_on < earliest:
        return (
            f"The day it was done cannot be more than {DONE_EARLIEST_DAYS} days before "
            f"the checklist's date ({anchor:%-d %b %Y})."
        )
    return None


def lateness(kind: str, person: str, title: str, due: dt.date, done: dt.date | None) -> str:
    """The failure sentence of a late item ("" when it is not late)."""
    label = ChecklistKind(kind).label
    if done is None:
        return f"{label} of {person}: '{title}' still open, due {due.isoformat()}"
    if done > due:
        return f"{label} of {person}: '{title}' done {done.isoformat()}, due {due.isoformat()}"
    return ""
