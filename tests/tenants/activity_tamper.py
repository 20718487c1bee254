"""Helpers of the activity log tests: entries written as the app writes them, and tampering as
someone with direct database access would do it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

from tenants.activity import Actor, activity_record
from tenants.models import ActivityEntry

ACTOR = Actor.system("test")


def record(org, n: int) -> list[ActivityEntry]:
    return [
        activity_record(
            organization=org,
            actor=ACTOR,
            action="update",
            object_type="controls.control",
            object_id=i,
            changes={"status": ["draft", "implemented"], "n": [i, i + 1.5]},
        )
        for i in range(n)
    ]


@contextmanager
def as_owner() -> Iterator[None]:
    """Tampering, as someone with direct database access as the tables' owner (under
    ``tests.rls_app_role`` the test body is the application's role, which may not)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        cursor.execute("RESET ROLE")
    try:
        yield  # the superuser the tests connect as: row-level security does not bind it
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{role}"')


def tamper_sql(sql: str, params: list) -> None:
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def rechain(org, sign: Callable[[ActivityEntry], str], *, key_id: str | None = None) -> None:
    """Recompute every link of the organization's chain with ``sign`` (what a forger would do
    after changing or deleting an entry), as the owner; ``key_id`` replaces the entries' own."""
    with as_owner():
        prev = ""
        for entry in ActivityEntry.objects.for_org(org).order_by("id"):
            entry.prev_hash = prev
            if key_id is not None:
                entry.key_id = key_id
            entry.entry_hash = sign(entry)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE tenants_activityentry SET prev_hash = %s, entry_hash = %s, "
                    "key_id = %s WHERE id = %s",
                    [entry.prev_hash, entry.entry_hash, entry.key_id, entry.pk],
                )
            prev = entry.entry_hash
