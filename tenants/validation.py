"""Checks on text that leaves the app in e-mail (organization names) and on dates people pick.

An organization's name goes into the subject and body of every invitation its members send,
to addresses they choose: a name that is a phishing line ("Your account is locked, log in at
evil.example") or carries a line break (a header injection, and Django's ``BadHeaderError``)
would turn the invitation form into a spam cannon. Names are checked when an organization is
created; names stored before that check are made header-safe when a mail is built.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils import timezone

from soc2app.errors import ValidationFailed

# Unicode categories refused in names: controls (Cc, incl. CR/LF and tab), format characters
# (Cf: zero-width and bidirectional overrides that disguise text), line and paragraph
# separators (Zl, Zp), surrogates and private-use characters.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})

_URL_LIKE = re.compile(
    r"""
      [a-z][a-z0-9+.\-]*://            # a scheme: https://, ftp://, hxxp://
    | \b(?:mailto|javascript|data):    # schemes without slashes
    | \bwww\d*\.                        # www.example
    | \b\d{1,3}(?:\.\d{1,3}){3}\b       # an IPv4 address
    | [\w\-]\.[a-z]{2,}(?:\b|/)         # a domain-like token: example.com, bit.ly/x
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Auditor access and other access ends people pick: far enough for any engagement, near enough
# that date arithmetic never leaves Python's range (9999-12-31 + 1 day is an OverflowError).
MAX_ACCESS_DAYS = 2 * 366


def _refused_character(text: str) -> str | None:
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def organization_name_clean(name: str) -> str:
    """The name, stripped, or ``ValidationFailed`` (field ``name``) saying what to change."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the organization a name.", field="name")
    if len(name) > 120:
        raise ValidationFailed("Keep the name under 120 characters.", field="name")
    char = _refused_character(name)
    if char is not None:
        raise ValidationFailed(
            f"The name contains an invisible or control character (U+{ord(char):04X}, such as "
            "a line break); type it on one line with letters, digits, spaces and punctuation.",
            field="name",
        )
    if _URL_LIKE.search(name):
        raise ValidationFailed(
            "The name looks like it contains a web address or domain; organization names are "
            "sent in invitation e-mails, so write the name without links (e.g. “Acme” rather "
            "than “acme.com”).",
            field="name",
        )
    return name


def header_safe(text: str, *, limit: int = 120) -> str:
    """``text`` on one line for an e-mail header: refused characters become spaces.

    Used when a mail is built, for names stored before ``organization_name_clean`` existed:
    sending must neither fail (``BadHeaderError``) nor let a line break inject headers.
    """
    cleaned = "".join(
        " " if unicodedata.category(c) in _REFUSED_CATEGORIES else c for c in text or ""
    )
    return " ".join(cleaned.split())[:limit]


def access_end_check(end: dt.datetime | None, *, field: str = "access_expires_at") -> None:
    """Refuse an access end in the past or beyond ``MAX_ACCESS_DAYS`` (before any arithmetic)."""
    if end is None:
        return
    now = timezone.now()
    if end <= now:
        raise ValidationFailed("Access must end in the future.", field=field)
    if end - now > dt.timedelta(days=MAX_ACCESS_DAYS):
        raise ValidationFailed(
            f"Access can end at most {MAX_ACCESS_DAYS} days from today; pick an earlier day.",
            field=field,
        )


def access_until_day_check(day: dt.date | None) -> None:
    """The form-side check of a picked last day (the day after must still be a valid date)."""
    if day is None:
        return
    today = timezone.localdate()
    if day < today:
        raise ValidationFailed("Pick today or a later day.", field="access_until")
    if (day - today).days >= MAX_ACCESS_DAYS:
        latest = today + dt.timedelta(days=MAX_ACCESS_DAYS - 1)
        raise ValidationFailed(
            f"Pick a day up to {latest:%d %b %Y}.",
            field="access_until",
        )
