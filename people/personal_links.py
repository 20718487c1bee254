"""Personal links, whatever they ask (accept a policy version, complete a training): a random
token e-mailed to one person, of which only the SHA-256 is stored; it expires and works once.

Sending is set-based, a batch (``BATCH`` people) at a time, in a constant number of queries
whatever its size: the people due a link are read in one go, their new links written with one
bulk insert (hashes computed here), their e-mails sent on one SMTP connection, and the links
whose message the server took marked sent with one UPDATE; those it refused are deleted (their
tokens never left). A batch run again (a worker killed under ``acks_late``) finds only the
people still without a live, sent link: it sends only what was not sent (with a new token: the
old one was never delivered). A link written and not yet sent is in flight for ``IN_FLIGHT``:
a concurrent batch (two assignments in a row) leaves it to the batch sending it, and one that
wrote the same people at the same moment reads them again (the unique link per person wins). Reminders go one at a time:
the new token is stored with its e-mail sent, or neither (the old one keeps working).

What differs between policies and training is a ``LinkKind``: whom it asks, the link's own
fields and the message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from people.models_links import PersonalLinkBase
from soc2app.errors import NotFound, ValidationFailed
from tenants.models import Organization
from tenants.validation import header_safe

logger = logging.getLogger(__name__)

BATCH = 200  # people per batch (one task, one SMTP connection)
MAX_REMINDERS = 3
# A link written but not sent yet is being e-mailed by a batch for this long at most (a batch
# task's time limit is 6 minutes): another batch leaves it alone meanwhile.
IN_FLIGHT = dt.timedelta(minutes=10)


def in_flight_since(now: dt.datetime) -> dt.datetime:
    return now - IN_FLIGHT


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkGone(ValidationFailed):
    status = 410
    code = "gone"


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0

    def add(self, other: SendResult) -> SendResult:
        self.sent += other.sent
        self.failed += other.failed
        return self


@dataclass(frozen=True)
class Invite:
    """One person due a link: where to mail it, what the message says about them, the link's
    own fields, and the link it replaces (never sent, or expired), if any."""

    person_id: int
    email: str
    context: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    replaces: int | None = None


class LinkKind:
    """What one owner (a policy version, a training requirement) asks through its links."""

    model: type[PersonalLinkBase]
    link_days: int

    def __init__(self, organization: Organization, owner: Model) -> None:
        self.organization = organization
        self.owner = owner

    @property
    def scope(self) -> dict:
        """The link's fields naming the owner."""
        raise NotImplementedError

    def invites(self, person_ids: Sequence[int] | None = None) -> list[Invite]:
        """People (among ``person_ids``) due a new link now, ordered, in constant queries."""
        raise NotImplementedError

    def reminders(self) -> list[tuple[PersonalLinkBase, Invite]]:
        """Links sent a while ago and not used, with their invite, for a reminder."""
        raise NotImplementedError

    # The e-mail: its template, the URL name of the public page, the subject (without
    # "Reminder: ") and what the template says about the owner.
    template: str
    url_name: str

    def subject(self) -> str:
        raise NotImplementedError

    def context(self) -> dict:
        raise NotImplementedError

    def message(
        self, invite: Invite, token: str, expires: dt.datetime, reminder: bool
    ) -> EmailMessage:
        org = self.organization
        path = reverse(self.url_name, kwargs={"organization": org.slug, "token": token})
        context = {
            "reminder": reminder,
            "organization_name": org.name,
            "url": settings.SITE_URL + path,
            "expires_at": expires,
            **self.context(),
            **invite.context,
        }
        return EmailMessage(
            subject=header_safe(f"{'Reminder: ' if reminder else ''}{self.subject()}"),
            body=render_to_string(self.template, context),
            to=[invite.email],
        )

    def links(self):
        return self.model.objects.for_org(self.organization)


def messages_deliver(messages: Sequence[EmailMessage], what: str) -> list[bool]:
    """Send ``messages`` on one connection; whether the server took each one. A message the
    server refuses is logged and skipped; a server that cannot be reached takes none."""
    taken = [False] * len(messages)
    connection = get_connection()
    try:
        connection.open()
        for i, message in enumerate(messages):
            try:
                # send_messages returns how many the server took; an exception, none.
                taken[i] = bool(connection.send_messages([message]))
            except Exception:
                logger.exception("%s for %s could not be sent", what, message.to)
    except Exception:
        logger.exception("%s: the mail server cannot be reached", what)
    finally:
        try:
            connection.close()
        except Exception:  # a dead server may fail the QUIT too; nothing is lost
            logger.debug("closing the mail connection failed", exc_info=True)
    return taken


def batch_send(
    kind: LinkKind, person_ids: Sequence[int] | None = None, *, retried: bool = False
) -> SendResult:
    """New links for at most ``BATCH`` of the people due one (among ``person_ids``), written
    at once, e-mailed on one connection, marked sent at once."""
    invites = kind.invites(person_ids)[:BATCH]
    if not invites:
        return SendResult()
    now = timezone.now()
    expires = now + dt.timedelta(days=kind.link_days)
    tokens = [token_new() for _ in invites]
    hashes = [token_hash(t) for t in tokens]
    try:
        _links_write(kind, invites, hashes, now, expires)
    except IntegrityError:
        # A concurrent batch wrote some of these people first: theirs are in flight now.
        if retried:
            raise
        return batch_send(kind, [i.person_id for i in invites], retried=True)
    messages = [
        kind.message(invite, token, expires, False)
        for invite, token in zip(invites, tokens, strict=True)
    ]
    taken = messages_deliver(messages, kind.__class__.__name__)
    sent = [digest for digest, ok in zip(hashes, taken, strict=True) if ok]
    refused = [digest for digest, ok in zip(hashes, taken, strict=True) if not ok]
    if sent:
        kind.links().filter(token_sha256__in=sent).update(sent_at=timezone.now())
    if refused:  # never delivered: the next run asks these people again at once
        kind.links().filter(token_sha256__in=refused, sent_at__isnull=True).delete()
    return SendResult(sent=len(sent), failed=len(refused))


def _links_write(kind: LinkKind, invites: list[Invite], hashes: list[str], now, expires) -> None:
    with transaction.atomic():
        replaced = [i.replaces for i in invites if i.replaces is not None]
        if replaced:
            kind.links().filter(pk__in=replaced).delete()
        kind.model.objects.bulk_create(
            kind.model(
                organization=kind.organization,
                person_id=invite.person_id,
                token_sha256=digest,
                created_at=now,
                expires_at=expires,
                **kind.scope,
                **invite.fields,
            )
            for invite, digest in zip(invites, hashes, strict=True)
        )


def batches_plan(kind: LinkKind) -> list[list[int]]:
    """The people due a link now, in batches of ``BATCH`` ids (one task each)."""
    ids = [invite.person_id for invite in kind.invites()]
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def batches_send(kind: LinkKind) -> SendResult:
    """Every batch due now, one after the other (the daily run and tests); stops when the
    mail server refuses (the next run tries the rest)."""
    result = SendResult()
    for ids in batches_plan(kind):
        if result.add(batch_send(kind, ids)).failed:
            break
    return result


def reminders_send(kind: LinkKind) -> SendResult:
    """A new token and e-mail for each link ``kind.reminders()`` names, one at a time; stops
    at the first failure."""
    result = SendResult()
    due = kind.reminders()[:BATCH]
    if not due:
        return result
    connection = get_connection()
    try:
        connection.open()
        for link, invite in due:
            token = token_new()
            message = kind.message(invite, token, link.expires_at, True)
            message.connection = connection
            try:
                # The new token is stored with its e-mail sent, or neither (the old one,
                # which the person may still hold, keeps working).
                with transaction.atomic():
                    kind.links().filter(pk=link.pk).update(
                        token_sha256=token_hash(token),
                        sent_at=timezone.now(),
                        reminders=link.reminders + 1,
                    )
                    message.send()
            except Exception:
                logger.exception("reminder for person %s failed", link.person_id)
                result.failed += 1
                break
            result.sent += 1
    finally:
        connection.close()
    return result


def link_find(
    model: type[PersonalLinkBase], org_slug: str, token: str, related: Iterable[str]
) -> tuple[Organization, PersonalLinkBase]:
    """The link behind ``token`` in ``org_slug``, or NotFound (unknown, tampered, another
    organization's)."""
    org = Organization.objects.filter(slug=org_slug).first()
    if org is None or not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    link = (
        model.objects.for_org(org)
        .select_related("person", *related)
        .filter(token_sha256=token_hash(token))
        .first()
    )
    if link is None:
        raise NotFound("This link is not valid.")
    return org, link


def link_check(link: PersonalLinkBase, used: str, today: dt.date) -> Person:
    """LinkGone if ``link`` was used (``used`` says so), expired, or its person left."""
    person = link.person
    if link.used_at is not None:
        raise LinkGone(used)
    if link.expires_at <= timezone.now():
        raise LinkGone("This link has expired: ask your compliance team for a new one.")
    if person.anonymised_at or (person.end_date is not None and person.end_date < today):
        raise LinkGone("This link is no longer valid.")
    return person


def link_claim(
    model: type[PersonalLinkBase], org: Organization, pk: int, used: str, now: dt.datetime
) -> None:
    """Mark the link used at ``now``, once: a second claim (a double submit, a race) is
    LinkGone."""
    claimed = (
        model.objects.for_org(org)
        .filter(pk=pk, used_at__isnull=True, expires_at__gt=now)
        .update(used_at=now)
    )
    if not claimed:
        raise LinkGone(used)
