"""Fixtures of the tenants tests: the webhook receiver (tests/webhook_receiver.py)."""

from tests.webhook_receiver import allow_private, endpoint, receiver  # noqa: F401
