"""Celery tasks of webhooks: thin, take ids, idempotent (see ``delivery.delivery_attempt``)."""

from __future__ import annotations

from celery import shared_task

from tenants.webhooks.delivery import delivery_attempt, due_delivery_ids


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt; a failed one schedules its own retry with backoff (recorded on the row)."""
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def retry_due_deliveries() -> int:
    """Every minute (beat): re-enqueue due deliveries whose task message was lost."""
    ids = due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
