"""``DatabaseWrapper``: Django's own, plus ``rls.forget`` on every rollback.

PostgreSQL undoes a ``set_config`` made inside a transaction or savepoint that rolls back, so
after one the values the connection holds are no longer known; the next query sends them
again (``tenants.rls.ensure``).
"""

from __future__ import annotations

from django.db.backends.postgresql import base

from tenants import rls


class DatabaseWrapper(base.DatabaseWrapper):
    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            rls.forget(self)

    def _savepoint_rollback(self, sid: str) -> None:
        try:
            super()._savepoint_rollback(sid)
        finally:
            rls.forget(self)
