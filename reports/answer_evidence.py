"""Reads for answering a request for information: the evidence that may be sent, searched and
filtered on the server (title or file name, control, freshness or review state, period), one
page at a time, and the versions already chosen (kept across searches and pages).

Only deliverable versions of live items of the audit's in-scope controls are offered: a file
held for its malware scan or quarantined never reaches an auditor (``deliverable_versions``).
Reading a page costs the same number of queries for any amount of evidence: the page of
versions with their items and controls, its count, the chosen versions, the scope controls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case, Q, QuerySet, When

from controls.models import Audit, Control
from evidence.models import EvidenceVersion, Freshness, ReviewState
from evidence.selectors import deliverable_versions
from reports.pbc import MAX_ATTACHMENTS
from reports.selectors import audit_scope_controls

PAGE_SIZE = 25
MAX_QUERY = 100

# The state filter: freshness of the version and its review, one list for the person answering.
STATES: dict[str, tuple[str, Q]] = {
    Freshness.FRESH: ("Current", Q(freshness=Freshness.FRESH)),
    Freshness.EXPIRING: ("Expiring soon", Q(freshness=Freshness.EXPIRING)),
    Freshness.STALE: ("Stale", Q(freshness=Freshness.STALE)),
    "accepted": ("Review accepted", Q(review_state=ReviewState.ACCEPTED)),
    "pending": ("Awaiting review", Q(review_state=ReviewState.PENDING)),
    "rejected": ("Review rejected", Q(review_state=ReviewState.REJECTED)),
}
STATE_CHOICES = [("", "Any state")] + [(key, label) for key, (label, _) in STATES.items()]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None  # a filter that does not parse is no filter, never an error


def _id(value: object) -> int | None:
    try:
        pk = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


@dataclass(frozen=True)
class EvidenceFilter:
    """What the person answering asked for; built from GET or POST data, bad values ignored."""

    q: str = ""
    control: int | None = None
    state: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    older: bool = False  # earlier versions too (a Type 2 period's evidence is rarely the latest)
    page: str = "1"
    chosen: tuple[int, ...] = field(default=())

    @classmethod
    def parse(cls, data: Mapping, *, control_ids: Iterable[int]) -> EvidenceFilter:
        control = _id(data.get("control"))
        state = data.get("state") or ""
        chosen = []
        getlist = getattr(data, "getlist", lambda key: data.get(key) or [])
        for value in getlist("versions"):
            pk = _id(value)
            if pk is not None and pk not in chosen:
                chosen.append(pk)
        return cls(
            q=(data.get("q") or "").strip()[:MAX_QUERY],
            control=control if control in set(control_ids) else None,
            state=state if state in STATES else "",
            start=_date(data.get("start")),
            end=_date(data.get("end")),
            older=data.get("older") == "1",
            page=str(data.get("page") or "1")[:12],
            chosen=tuple(chosen[:MAX_ATTACHMENTS]),
        )

    def query(self, *, page: int | None = None) -> list[tuple[str, str]]:
        """The filter as query parameters (for links and the htmx requests)."""
        pairs = [
            ("q", self.q),
            ("control", str(self.control or "")),
            ("state", self.state),
            ("start", self.start.isoformat() if self.start else ""),
            ("end", self.end.isoformat() if self.end else ""),
            ("older", "1" if self.older else ""),
        ]
        pairs = [(k, v) for k, v in pairs if v]
        pairs += [("versions", str(pk)) for pk in self.chosen]
        if page:
            pairs.append(("page", str(page)))
        return pairs

    @property
    def is_narrowed(self) -> bool:
        return bool(self.q or self.control or self.state or self.start or self.end)


def _offered(audit: Audit) -> QuerySet[EvidenceVersion]:
    return deliverable_versions(EvidenceVersion.objects.for_org(audit.organization_id)).filter(
        item__removed_at__isnull=True,
        item__control_id__in=audit_scope_controls(audit).values("pk"),
    )


def answer_candidates(
    audit: Audit, wanted: EvidenceFilter, *, first_control_id: int | None = None
) -> QuerySet[EvidenceVersion]:
    """Versions matching ``wanted`` (the chosen ones left out: they are listed apart), those of
    ``first_control_id`` (the request's control) first, then by control code and title."""
    versions = _offered(audit).exclude(pk__in=wanted.chosen)
    if not wanted.older:
        versions = versions.filter(is_latest=True)
    if wanted.q:
        versions = versions.filter(
            Q(item__title__icontains=wanted.q) | Q(original_name__icontains=wanted.q)
        )
    if wanted.control:
        versions = versions.filter(item__control_id=wanted.control)
    if wanted.state:
        versions = versions.filter(STATES[wanted.state][1])
    # The period: versions whose effective dates overlap it.
    if wanted.start:
        versions = versions.filter(effective_end__gte=wanted.start)
    if wanted.end:
        versions = versions.filter(effective_start__lte=wanted.end)
    order: list = ["item__control__code", "item__title", "-number", "pk"]
    if first_control_id is not None:
        order.insert(0, Case(When(item__control_id=first_control_id, then=0), default=1))
    return versions.select_related("item__control").order_by(*order)


def answer_page(
    audit: Audit, wanted: EvidenceFilter, *, first_control_id: int | None = None
) -> Page:
    """One page (``PAGE_SIZE``) of ``answer_candidates``; a bad page number gives a valid page."""
    rows = answer_candidates(audit, wanted, first_control_id=first_control_id)
    return Paginator(rows, PAGE_SIZE).get_page(wanted.page)


def chosen_versions(audit: Audit, ids: Iterable[int]) -> list[EvidenceVersion]:
    """The chosen versions that may still be sent, in the order they were chosen; ids that are
    not (another audit's, another organization's, held, removed) are dropped."""
    ids = list(ids)
    if not ids:
        return []
    found = {v.pk: v for v in _offered(audit).filter(pk__in=ids).select_related("item__control")}
    return [found[pk] for pk in ids if pk in found]


def upload_controls(controls: list[Control], first_control_id: int | None) -> list[Control]:
    """The scope controls new evidence may be added to, the request's control first."""
    return sorted(controls, key=lambda c: (c.pk != first_control_id, c.code))
