"""Sending the digest outbox: at least once, never none.

``digests_send`` (evidence.notifications) writes each digest as an ``EvidenceDigest`` row in
the transaction that marks its changes told. This module mails them:

1. **Claim** a batch of unsent rows with one conditional UPDATE (unsent, and unclaimed or
   claimed by a sender whose claim ran out) that stamps this sender's token and
   ``claimed_until``; committed at once, so a concurrent sender skips them (the WHERE clause is
   re-checked on the locked row).
2. **Send** each on one SMTP connection; **mark it sent** (``sent_at``) right after the server
   accepted it, before the next one.
3. A refused or stalled server (``EMAIL_TIMEOUT``) releases this sender's remaining claims:
   unsent, they go out with the hourly retry. A sender killed mid-send (SIGKILL, a lost
   machine) releases nothing; its claims run out after ``EVIDENCE_DIGEST_CLAIM_MINUTES`` and
   the retry sends them then.

A server that accepted a message just before its sender died may get it twice; no digest is
ever marked sent that the server did not accept.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.utils import timezone

from evidence.models import EvidenceDigest
from tenants.models import Organization

logger = logging.getLogger(__name__)

BATCH = 50  # rows per claim: a batch is sent well within the claim's time


def _claimable(now: dt.datetime) -> Q:
    return Q(sent_at__isnull=True) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def _claim(organization: Organization, token: uuid.UUID) -> list[EvidenceDigest]:
    now = timezone.now()
    rows = EvidenceDigest.objects.for_org(organization)
    ids = list(
        rows.filter(_claimable(now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    if not ids:
        return []
    until = now + dt.timedelta(minutes=settings.EVIDENCE_DIGEST_CLAIM_MINUTES)
    # The conditions again, not just the ids: re-checked on each locked row, so a row another
    # sender claimed (or sent) since it was read is left to that sender.
    claimed = rows.filter(_claimable(now), pk__in=ids).update(
        claim_token=token, claimed_until=until, attempts=F("attempts") + 1
    )
    if not claimed:
        return []
    return list(rows.filter(claim_token=token, sent_at__isnull=True).order_by("created_at", "pk"))


def _message(digest: EvidenceDigest) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=digest.subject, body=digest.body_text, to=[digest.email]
    )
    if digest.body_html:
        message.attach_alternative(digest.body_html, "text/html")
    return message


def _release(organization: Organization, token: uuid.UUID, error: Exception) -> int:
    """This sender's unsent rows are claimable again at once (the server failed, not us)."""
    return (
        EvidenceDigest.objects.for_org(organization)
        .filter(claim_token=token, sent_at__isnull=True)
        .update(claim_token=None, claimed_until=None, last_error=str(error)[:300])
    )


def _mark_sent(digest: EvidenceDigest, token: uuid.UUID) -> None:
    EvidenceDigest.objects.for_org(digest.organization_id).filter(
        pk=digest.pk, claim_token=token
    ).update(sent_at=timezone.now(), claim_token=None, claimed_until=None)


def digests_deliver(*, organization: Organization) -> int:
    """Mail the organization's unsent digests; returns how many the server accepted."""
    sent = 0
    while True:
        token = uuid.uuid4()
        batch = _claim(organization, token)
        if not batch:
            return sent
        connection = get_connection()
        try:
            connection.open()
            for digest in batch:
                # send_messages returns how many the server took; an exception, none.
                if not connection.send_messages([_message(digest)]):
                    raise RuntimeError("the mail server did not accept the message")
                _mark_sent(digest, token)
                sent += 1
        except Exception as exc:
            released = _release(organization, token, exc)
            logger.exception(
                "%s: sending evidence digests failed; %d left in the outbox for the retry",
                organization.slug,
                released,
            )
            return sent
        finally:
            try:
                connection.close()
            except Exception:  # a dead server may fail the QUIT too; nothing is lost
                logger.debug("closing the mail connection failed", exc_info=True)


def organizations_with_unsent() -> set[int]:
    """Organizations whose outbox holds a digest not sent yet (the retry's work)."""
    return set(
        EvidenceDigest.objects.dangerously_unscoped(reason="find unsent evidence digests")
        .filter(sent_at__isnull=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
