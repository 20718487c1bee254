"""What the readiness engine returns (``controls.readiness`` computes it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from controls.models import Audit, Control, ControlStatus, SelfAssessmentAnswer
from controls.periods import Period, PeriodStatus
from criteria.models import Criterion


class Status(StrEnum):
    MET = "met"
    PARTIAL = "partial"
    GAP = "gap"
    NOT_APPLICABLE = "not_applicable"


class ExceptionKind(StrEnum):
    MISSING = "missing"  # an ended period without accepted evidence
    FAILED = "failed"  # a tested item failed (added by sample testing)
    DEVIATION = "deviation"  # recorded by a manager on a period otherwise covered
    # system-generated evidence in the period reports a failure (an automated test failed)
    TEST_FAILED = "test_failed"


@dataclass
class ControlException:
    """One exception of a Type 2 audit: a control that did not operate in a period.

    Missing periods come from the engine; sample testing adds failed items to the same list
    (``AuditReadiness.add_exception``); a recorded deviation on the period carries the
    management response.
    """

    control: Control
    period: Period
    kind: ExceptionKind
    detail: str
    deviation: Any = None  # controls.models.Deviation, when one is recorded for the period
    # Failed items: the tested item's id and who tested it (the auditor).
    item_id: str = ""
    tested_by: str = ""

    @property
    def owner(self) -> str:
        return self.control.owner.user.email if self.control.owner_id else ""

    @property
    def sort_key(self) -> tuple:
        return (self.control.code, self.period.start, self.kind, self.item_id)


@dataclass
class ControlReadiness:
    control: Control
    evidence_ok: bool
    # Accepted (Type 1: current on the as-of date; Type 2: overlapping the window) and pending
    # evidence versions of items that have not been removed.
    accepted: int = 0
    pending: int = 0
    # Type 2 only: each sub-period of the window and whether it is covered, missing or upcoming.
    periods: list[tuple[Period, PeriodStatus]] = field(default_factory=list)
    sample: str = ""
    note: str = ""
    # Type 2 only: how many of ``periods`` have ended (the last day is before today), and the
    # day the control was added when that was after the window started.
    periods_ended: int = 0
    adopted_on: dt.date | None = None
    # Who accepted the versions counted in ``accepted`` (emails, sorted): segregation of
    # duties is visible in every reason that says a control is met.
    reviewers: list[str] = field(default_factory=list)
    # Type 2 only: evidence that counts less than its range suggests (manual controls).
    flags: list[str] = field(default_factory=list)
    exceptions: list[ControlException] = field(default_factory=list)
    # Type 2 only: the periods in which system-generated evidence reported a failure, each
    # with the (day, what failed) of those versions.
    failures: list[tuple[Period, list[tuple[dt.date, str]]]] = field(default_factory=list)
    # What its latest system-generated versions report failing now ("Test '…' failing on 2
    # resources since 3 Dec 2026 (…)"), named in the reasons.
    failing_tests: list[str] = field(default_factory=list)

    @property
    def operating(self) -> bool:
        return self.control.status == ControlStatus.IMPLEMENTED and self.evidence_ok

    @property
    def failed_items(self) -> int:
        """Items of this control that failed sample testing: operating with exceptions."""
        return sum(1 for e in self.exceptions if e.kind == ExceptionKind.FAILED)

    @property
    def missing_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.MISSING]

    @property
    def failed_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.FAILED]

    @property
    def upcoming_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.UPCOMING]

    @property
    def covered_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.COVERED]

    @property
    def covered_ended(self) -> int:
        """Covered periods that have ended (periods come in order: the ended ones first)."""
        ended = self.periods[: self.periods_ended]
        return sum(1 for _, s in ended if s == PeriodStatus.COVERED)

    @property
    def started(self) -> bool:
        """Progress beyond adoption: implemented, or accepted evidence (Type 1: current on
        the as-of date; Type 2: covering a period that has ended)."""
        if self.control.status == ControlStatus.IMPLEMENTED:
            return True
        return self.covered_ended > 0 if self.periods else self.accepted > 0


@dataclass(frozen=True)
class CriterionFacts:
    """A criterion's status in figures (the dashboard's short labelled facts), counted from
    its mapped controls' readiness: the same rows as its reasons."""

    controls: int  # mapped
    applicable: int
    implemented: int  # applicable and implemented
    evidence_current: int  # applicable with evidence that counts (Type 1: on the as-of date;
    # Type 2: every ended period, or some evidence when none has ended)
    periods_covered: int  # Type 2: covered ended periods of the applicable controls
    periods_ended: int
    awaiting_review: int  # evidence versions pending review
    exceptions: int  # Type 2: missing and failed periods, deviations and failed items


@dataclass
class CriterionReadiness:
    criterion: Criterion
    status: Status
    reasons: list[str]
    controls: list[ControlReadiness]
    answer: SelfAssessmentAnswer | None
    # The reasons that name one exception each (also in ``reasons``, in their place): a
    # criterion with many missing periods lists them all, so pages can show a few and count
    # the rest.
    exception_reasons: list[str] = field(default_factory=list)

    @property
    def owners(self) -> list[str]:
        labels = {c.control.owner.user.email for c in self.controls if c.control.owner_id}
        return sorted(labels)

    @property
    def main_reasons(self) -> list[str]:
        """``reasons`` without the ones naming a single exception."""
        named = set(self.exception_reasons)
        return [r for r in self.reasons if r not in named]

    @property
    def facts(self) -> CriterionFacts:
        applicable = [c for c in self.controls if c.control.is_applicable]
        return CriterionFacts(
            controls=len(self.controls),
            applicable=len(applicable),
            implemented=sum(c.control.status == ControlStatus.IMPLEMENTED for c in applicable),
            evidence_current=sum(c.evidence_ok for c in applicable),
            periods_covered=sum(c.covered_ended for c in applicable),
            periods_ended=sum(c.periods_ended for c in applicable),
            awaiting_review=sum(c.pending for c in applicable),
            exceptions=sum(len(c.exceptions) for c in applicable),
        )


@dataclass
class CategoryReadiness:
    key: str
    name: str
    counts: dict[str, int]
    score: Decimal

    @property
    def total(self) -> int:
        return sum(self.counts[s] for s in ("met", "partial", "gap"))


@dataclass
class AuditReadiness:
    audit: Audit
    computed_at: dt.datetime
    criteria: list[CriterionReadiness]
    categories: list[CategoryReadiness]
    controls: dict[int, ControlReadiness]
    score: Decimal
    counts: dict[str, int]
    exceptions: list[ControlException] = field(default_factory=list)

    @property
    def gaps(self) -> list[CriterionReadiness]:
        return [c for c in self.criteria if c.status in (Status.GAP, Status.PARTIAL)]

    @property
    def applicable_controls(self) -> list[ControlReadiness]:
        return [c for c in self.controls.values() if c.control.is_applicable]

    @property
    def controls_implemented(self) -> tuple[int, int]:
        """(implemented, applicable) over the controls mapped to criteria in scope."""
        applicable = self.applicable_controls
        done = sum(1 for c in applicable if c.control.status == ControlStatus.IMPLEMENTED)
        return done, len(applicable)

    @property
    def periods_evidenced(self) -> tuple[int, int]:
        """Type 2: (covered, ended) sub-periods over the applicable controls."""
        applicable = self.applicable_controls
        return (
            sum(c.covered_ended for c in applicable),
            sum(c.periods_ended for c in applicable),
        )

    @property
    def plain_figures(self) -> dict[str, int]:
        """The two plain figures shown beside the score (dashboard and API)."""
        done, applicable = self.controls_implemented
        covered, ended = self.periods_evidenced
        return {
            "controls_implemented": done,
            "controls_applicable": applicable,
            "periods_covered": covered,
            "periods_ended": ended,
        }

    def add_exception(self, exception: ControlException) -> None:
        """Add an exception found elsewhere (a failed sample item), kept in order."""
        self.exceptions.append(exception)
        self.exceptions.sort(key=lambda e: e.sort_key)
        self.controls[exception.control.pk].exceptions.append(exception)
