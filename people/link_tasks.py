"""What the Celery tasks sending personal links share (policies.tasks, training.tasks).

A request queues one planning task (``batches_queue``): it reads who is due a link and
queues one batch task (``batch_run``) per ``BATCH`` people, so that a new version for 5,000
people becomes 25 tasks that workers run in parallel. Both are ``acks_late``: a worker killed mid-run leaves its
message queued and the rerun sends only what was not sent (the batch reads again who still has
no live, sent link).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import OperationalError

from people.personal_links import LinkKind, batch_send, batches_plan
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 30,
    "max_retries": 5,
    "soft_time_limit": 5 * 60,
    "time_limit": 6 * 60,
    "ignore_result": True,
}

Loader = Callable[[Organization], LinkKind | None]


@contextmanager
def _loaded(organization_id: int, load: Loader) -> Iterator[LinkKind | None]:
    """``load(org)`` in the organization's scope (None: the organization or owner is gone)."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        yield None
        return
    with org_scope(org):
        yield load(org)


def batches_queue(organization_id: int, load: Loader, batch_task) -> int:
    """Queue ``batch_task(organization_id, owner id, person ids)`` per batch of the people
    ``load(org)`` is due to ask; returns the number of batches."""
    with _loaded(organization_id, load) as kind:
        if kind is None:
            return 0
        ids = batches_plan(kind)
    for person_ids in ids:
        batch_task.delay(organization_id, kind.owner.pk, person_ids)
    logger.info("%s %s: %s batches queued", type(kind).__name__, kind.owner.pk, len(ids))
    return len(ids)


def batch_run(organization_id: int, load: Loader, person_ids: list[int]) -> int:
    """Send the links of one batch; returns how many the mail server took."""
    with _loaded(organization_id, load) as kind:
        if kind is None:
            return 0
        result = batch_send(kind, person_ids)
    logger.info(
        "%s %s: %s links sent, %s failed",
        type(kind).__name__,
        kind.owner.pk,
        result.sent,
        result.failed,
    )
    return result.sent
