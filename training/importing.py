"""CSV import of completions from an external learning platform: columns ``email``,
``requirement`` (its title, or the library key), ``completed_on`` (YYYY-MM-DD) and
``provider`` (optional). ``preview`` checks every row and says what is wrong with each;
``commit`` imports all rows or none (any error refuses the file). A completion already
recorded for that person, requirement and date is skipped, so a file imported twice adds
nothing. Reading the file (size, encoding, header, line numbers) is ``soc2app.csv_import``; the
preview travels back with the confirmation as the checked text, which is checked again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from people.models import Person
from soc2app.csv_import import body_rows, decode, echo, match_header, read_rows
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor
from tenants.models import Membership
from training import services
from training.models import CompletionSource, TrainingCompletion, TrainingRequirement

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
COLUMNS = ("email", "requirement", "completed_on", "provider")


@dataclass
class Row:
    line: int
    email: str
    requirement: str
    completed_on: str
    provider: str
    errors: list[str] = field(default_factory=list)
    person: Person | None = None
    req: TrainingRequirement | None = None
    day: dt.date | None = None
    duplicate: bool = False


@dataclass
class Preview:
    rows: list[Row]

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def new(self) -> int:
        return sum(1 for r in self.rows if not r.errors and not r.duplicate)


def preview(membership: Membership, data: bytes) -> Preview:
    """Every row with its errors, in a constant number of queries."""
    permissions.require(membership, services.MANAGE)
    org = membership.organization
    table = read_rows(decode(data, max_bytes=MAX_BYTES, what="the completions"))
    header = match_header(table[0] if table else [], columns=COLUMNS, required=COLUMNS[:3])
    if header.missing:  # other columns are ignored
        raise ValidationFailed(
            f"The first line must name the columns {', '.join(COLUMNS)}; missing: "
            f"{', '.join(header.missing)}.",
            field="file",
        )
    body = body_rows(table)
    if len(body) > MAX_ROWS:
        raise ValidationFailed(f"At most {MAX_ROWS:,} rows per file.", field="file")
    rows = []
    for number, cells in body:
        raw = dict(zip(header.names, cells, strict=False))
        rows.append(
            Row(
                line=number,
                email=(raw.get("email") or "").strip().lower(),
                requirement=(raw.get("requirement") or "").strip(),
                completed_on=(raw.get("completed_on") or "").strip(),
                provider=(raw.get("provider") or "").strip(),
            )
        )
    if not rows:
        raise ValidationFailed("The file has no rows under its header.", field="file")
    people = {
        p.email.lower(): p
        for p in Person.objects.for_org(org).filter(email__in={r.email for r in rows})
    }
    reqs = {}
    for req in TrainingRequirement.objects.for_org(org):
        reqs[req.title.lower()] = req
        if req.library_key:
            reqs[req.library_key.lower()] = req
    existing = set(
        TrainingCompletion.objects.for_org(org)
        .filter(person__in=list(people.values()))
        .values_list("person_id", "requirement_id", "completed_on")
    )
    today, seen = timezone.localdate(), set()
    for r in rows:
        _check(r, people, reqs, today)
        if r.errors:
            continue
        key = (r.person.pk, r.req.pk, r.day)
        r.duplicate = key in existing or key in seen
        seen.add(key)
    return Preview(rows=rows)


def _check(r: Row, people: dict, reqs: dict, today: dt.date) -> None:
    r.person = people.get(r.email)
    if r.person is None:
        r.errors.append("No person with this e-mail in the roster.")
    r.req = reqs.get(r.requirement.lower())
    if r.req is None:
        r.errors.append("No training requirement with this title.")
    try:
        r.day = dt.date.fromisoformat(r.completed_on)
    except ValueError:
        r.errors.append(f"Give completed_on as YYYY-MM-DD, not {echo(r.completed_on)}.")
    if len(r.provider) > 200:
        r.errors.append("Keep the provider under 200 characters.")
    if r.person is not None and r.day is not None:
        try:
            services.check_completed_on(r.day, r.person, today)
        except ValidationFailed as exc:
            r.errors.append(exc.message)


def commit(membership: Membership, data: bytes) -> int:
    """Import every row or none; the number of completions added."""
    result = preview(membership, data)
    if result.errors:
        raise ValidationFailed(
            f"{result.errors} row(s) have errors: nothing was imported.", field="file"
        )
    actor = Actor.for_principal(membership)
    added = 0
    with transaction.atomic():
        for r in result.rows:
            if r.duplicate:
                continue
            services.completion_record(
                organization=membership.organization,
                person=r.person,
                requirement=r.req,
                completed_on=r.day,
                source=CompletionSource.IMPORT,
                actor=actor,
                provider=r.provider,
            )
            added += 1
    return added
