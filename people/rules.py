"""The rules of a roster entry, shared by the services (one person) and the CSV import (many):
pure functions, no database.

* An e-mail address is stored lower-case and trimmed; one person per address in an
  organization.
* Dates are ISO (``YYYY-MM-DD``); an end date is never before the start date.
* A manager is another person of the same organization, and the chain of managers never comes
  back to the person (no cycles).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from people.models import EmploymentType
from soc2app.csv_import import parse_date  # noqa: F401 (the roster's date rule too)

NAME_MAX = 200
TITLE_MAX = 200
DEPARTMENT_MAX = 120
EMAIL_MAX = 254
_email_validator = EmailValidator()
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): refused in names,
# titles and departments, which end up in exports.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def normalise_email(value: object) -> str:
    return str(value or "").strip().lower()


def email_problem(email: str) -> str | None:
    if not email:
        return "Give the person's e-mail address."
    if len(email) > EMAIL_MAX:
        return f"Keep the e-mail address under {EMAIL_MAX} characters."
    try:
        _email_validator(email)
    except ValidationError:
        return f"{email!r} is not an e-mail address."
    return None


def text_problem(value: str, *, label: str, limit: int, required: bool = False) -> str | None:
    if required and not value:
        return f"Give the {label}."
    if len(value) > limit:
        return f"Keep the {label} under {limit} characters."
    if value.startswith(FORMULA_START) or any(ord(c) < 32 for c in value):
        return f"The {label} cannot start with = + - @ or contain control characters."
    return None


def employment_type_problem(value: str) -> str | None:
    if value in EmploymentType.values:
        return None
    return f"Employment type is one of {', '.join(EmploymentType.values)}; not {value!r}."


def dates_problem(start: dt.date | None, end: dt.date | None) -> str | None:
    if start is not None and end is not None and end < start:
        return f"The end date ({end}) is before the start date ({start})."
    return None


def cycle_from(managers: Mapping[object, object | None], start: object) -> bool:
    """Does following ``managers`` (person -> their manager) from ``start`` come back to it?"""
    seen: set[object] = set()
    current = managers.get(start)
    while current is not None and current not in seen:
        if current == start:
            return True
        seen.add(current)
        current = managers.get(current)
    return False
