"""Outgoing webhooks: endpoints, signed deliveries with retries, and the SSRF guard.

``services`` (endpoints, ``webhooks_emit``), ``delivery`` (one attempt), ``net`` (address
checks and the pinned HTTP connection), ``tasks`` (Celery).
"""
