from __future__ import annotations

import logging

from celery import shared_task

from tenants.activity_checkpoints import checkpoints_write
from tenants.credentials_sweep import lapsed_credentials_sweep
from tenants.services import invitations_expire

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def expire_invitations() -> int:
    """Idempotent: a second run finds nothing pending past its expiry."""
    count = invitations_expire()
    if count:
        logger.info("expired %d invitations", count)
    return count


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def sweep_idempotency_keys() -> int:
    """Idempotent: a second run finds nothing past its expiry."""
    from soc2app.api.idempotency import idempotency_keys_sweep

    count = idempotency_keys_sweep()
    if count:
        logger.info("deleted %d expired idempotency keys", count)
    return count


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def write_activity_checkpoints() -> int:
    """Idempotent: a chain whose head is sealed already gets no second checkpoint. A broken
    chain is logged as an error (``tenants.activity_checkpoints``), not retried."""
    return sum(1 for result in checkpoints_write() if result.checkpoint is not None)


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def revoke_lapsed_credentials() -> int:
    """Idempotent: a credential is revoked (and mailed about) by one run only."""
    results = lapsed_credentials_sweep()
    for result in results:
        logger.info(
            "revoked %d credentials of %s: their creator's access ended",
            len(result.revoked),
            result.organization.slug,
        )
    return sum(len(result.revoked) for result in results)
