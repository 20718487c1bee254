"""The roster's ready-made populations for Type 2 sampling: new hires (start date in the
observation window) and leavers (end date in it). Items are keyed by the person's id
(``PER-<id>``), dated by the start or end date, described by name and e-mail address: the
auditor samples people, then asks for their onboarding or offboarding evidence. Registered
with ``reports.population_sources`` when the app is ready."""

from __future__ import annotations

import datetime as dt

from people import selectors
from reports.population_sources import PopulationSourceSpec, source_register
from reports.sampling import DESCRIPTION_MAX, Row, neutralise


def _row(person_id: int, day: dt.date, name: str, email: str, title: str) -> Row:
    text = f"{name} <{email}>" + (f", {title}" if title else "")
    return Row(f"PER-{person_id}", day, neutralise(text)[:DESCRIPTION_MAX])


def joiner_rows(org_id: int, start: dt.date, end: dt.date) -> list[Row]:
    rows = selectors.joiners(org_id, start, end).values_list(
        "id", "start_date", "full_name", "email", "title"
    )
    return [_row(*values) for values in rows]


def leaver_rows(org_id: int, start: dt.date, end: dt.date) -> list[Row]:
    rows = selectors.leavers(org_id, start, end).values_list(
        "id", "end_date", "full_name", "email", "title"
    )
    return [_row(*values) for values in rows]


JOINERS = PopulationSourceSpec(
    key="people.joiners",
    label="New hires in the window (roster)",
    build=joiner_rows,
    empty_message="Nobody on the roster started inside the window.",
)
LEAVERS = PopulationSourceSpec(
    key="people.leavers",
    label="Leavers in the window (roster)",
    build=leaver_rows,
    empty_message="Nobody on the roster left inside the window.",
)


def register() -> None:
    source_register(JOINERS)
    source_register(LEAVERS)
