"""``DatabaseWrapper``: Django's own, plus ``rls.forget`` on every rollback.

PostgreSQL undoes a ``set_config`` made inside a transaction or savepoint that rolls back
(a failed transaction's COMMIT included), so after one the values the connection holds are no
longer known; the next query sends them again (``tenants.rls.ensure``).
"""

from __future__ import annotations

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from tenants import rls


class DatabaseWrapper(base.DatabaseWrapper):
    # ``tenants.rls`` may trust what it last sent on this connection (it sends before every
    # query on any other PostgreSQL backend).
    rls_tracks_rollbacks = True

    def _commit(self) -> None:
        # A failed transaction's COMMIT is a rollback (PostgreSQL says so without an error).
        failed = (
            self.connection is not None
            and self.connection.info.transaction_status == TRANSACTION_STATUS_INERROR
        )
        try:
            super()._commit()
        finally:
            if failed:
                rls.forget(self)

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
