"""Evidence digests: one e-mail per person per organization listing the evidence that became
expiring or stale since they were last told.

Who is told: the owner of the evidence's control; for controls nobody owns (or whose owner's
access has ended), the organization's compliance managers, or failing those its owners and
admins.

Each change is told once: a run claims the rows with one conditional UPDATE that stamps them
with its own token (``notified_freshness`` catches up with ``freshness``), then reads back only
the rows carrying that token. A concurrent run's UPDATE skips rows already claimed (the WHERE
clause is re-checked on the locked row), so no change goes into two digests.

The digests are an outbox: written as ``EvidenceDigest`` rows in the claim's transaction, and
mailed after it commits by ``evidence.outbox`` (marked sent only once the mail server accepted
them). A run killed or a mail server down before that leaves them unsent, and the hourly
retry (``digests_retry``) sends them: at least once, never none.

Other apps add their own items to the same daily digest (monitoring: tests that started
failing or recovered, overdue findings) with ``register_digest_section``: a section claims its
items in the digest's transaction, with the same token, and names who is told. A section whose
news is dated (a review date passed, a document's validity ran out: risks, vendors) gives
``claim_dated`` instead of marking rows: ``section_window`` hands it the days not told yet
(one ``DigestMark`` row per organization and section, claimed in the same transaction), and
it tells what happened on those days, computed from the dates.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from evidence.models import DigestMark, EvidenceDigest, EvidenceVersion, Freshness
from evidence.outbox import digests_deliver, organizations_with_unsent
from evidence.selectors import live_versions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization, Role
from tenants.validation import header_safe

logger = logging.getLogger(__name__)

NOTIFY_STATES = (Freshness.EXPIRING, Freshness.STALE)


def _pending(versions):  # type: ignore[no-untyped-def]
    return (
        live_versions(versions)
        .filter(freshness__in=NOTIFY_STATES)
        .exclude(notified_freshness=F("freshness"))
    )


@dataclass(frozen=True)
class DigestEntry:
    """One line another app adds to a digest, under ``heading``; told to ``owners`` (the
    active ones with an e-mail), or to the fallback recipients when none is left."""

    heading: str
    text: str
    url: str
    owners: tuple[Membership, ...] = ()


@dataclass(frozen=True)
class DigestSection:
    """Registered by an app (``register_digest_section`` in its ``AppConfig.ready``).

    ``pending``: the organizations with something not told yet (a system-wide read);
    ``claim(organization, token)``: marks what it tells as told (a conditional UPDATE, like the
    evidence's) inside the digest's transaction and returns its entries."""

    name: str
    pending: Callable[[], set[int]]
    claim: Callable[[Organization, uuid.UUID], list[DigestEntry]]
    # Dated news: ``claim_dated(organization, token, today)`` is called instead of ``claim``,
    # with the digest's day (``section_window`` gives it the days not told yet).
    claim_dated: Callable[[Organization, uuid.UUID, dt.date], list[DigestEntry]] | None = None

    def claim_for(self, organization: Organization, token: uuid.UUID, today: dt.date):  # noqa: ANN201
        if self.claim_dated is not None:
            return self.claim_dated(organization, token, today)
        return self.claim(organization, token)


@dataclass(frozen=True)
class Window:
    """The news a dated section has not told yet: what happened on a day after ``after`` up to
    ``today``, and the rows created after ``since`` (entered already late, say). ``None``
    for both: nothing told yet, everything is news."""

    after: dt.date | None
    since: dt.datetime | None
    today: dt.date

    def holds(self, day: dt.date) -> bool:
        """Whether something that happened on ``day`` is news."""
        return day <= self.today and (self.after is None or day > self.after)

    def new(self, created: dt.datetime) -> bool:
        return self.since is None or created > self.since


def section_window(organization: Organization, name: str, today: dt.date) -> Window | None:
    """Claim the days section ``name`` has not told ``organization`` yet, in the caller's
    transaction (the digest's): None when a run told them already (today, or concurrently).
    Two queries."""
    marks = DigestMark.objects.for_org(organization).filter(section=name)
    now = timezone.now()
    # Locked until the digest commits: a concurrent run waits, then finds today told.
    mark = marks.select_for_update().first()
    if mark is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent first run wins
                DigestMark.objects.create(
                    organization=organization, section=name, told_through=today, told_at=now
                )
        except IntegrityError:
            return None
        return Window(after=None, since=None, today=today)
    if mark.told_through >= today:
        return None
    marks.filter(pk=mark.pk).update(told_through=today, told_at=now)
    return Window(after=mark.told_through, since=mark.told_at, today=today)


def organizations_with(model, name: str) -> set[int]:  # noqa: ANN001
    """Organizations with rows of ``model``: a dated section's ``pending`` (one system-wide
    query). Its ``claim_dated`` finds nothing to tell when the window is told already."""
    return set(
        model.objects.dangerously_unscoped(reason=f"digest: organizations with {name}")
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


_SECTIONS: dict[str, DigestSection] = {}


def register_digest_section(section: DigestSection) -> None:
    _SECTIONS[section.name] = section


def organizations_to_notify(changes: Iterable[int], *, sections: bool = True) -> list[Organization]:
    """Organizations whose states just changed, plus any with changes nobody was told about
    (and, unless ``sections`` is off, any a registered section has news for)."""
    pending = (
        _pending(
            EvidenceVersion.objects.dangerously_unscoped(reason="find organizations to notify")
        )
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    ids = set(changes) | set(pending)
    if sections:
        for section in _SECTIONS.values():
            ids |= section.pending()
    return list(Organization.objects.filter(pk__in=ids).order_by("slug"))


@dataclass
class Digest:
    user: AbstractBaseUser
    stale: list[EvidenceVersion] = field(default_factory=list)
    expiring: list[EvidenceVersion] = field(default_factory=list)
    entries: dict[str, list[DigestEntry]] = field(default_factory=dict)

    def add_entry(self, entry: DigestEntry) -> None:
        self.entries.setdefault(entry.heading, []).append(entry)

    def add(self, version: EvidenceVersion) -> None:
        bucket = self.stale if version.freshness == Freshness.STALE else self.expiring
        if version not in bucket:
            bucket.append(version)


def _fallback_recipients(org: Organization) -> list[AbstractBaseUser]:
    members = [
        m
        for m in Membership.objects.for_org(org)
        .filter(role__in=[Role.COMPLIANCE_MANAGER, Role.OWNER, Role.ADMIN])
        .select_related("user")
        .order_by("user__email")
        if m.is_active and m.user.email
    ]
    managers = [m.user for m in members if m.role == Role.COMPLIANCE_MANAGER]
    return managers or [m.user for m in members]


def _item_url(org: Organization, version: EvidenceVersion) -> str:
    path = reverse("evidence_item", kwargs={"org_slug": org.slug, "pk": version.item_id})
    return settings.SITE_URL + path


def _message(org: Organization, digest: Digest) -> EmailMultiAlternatives:
    evidence_count = len(digest.stale) + len(digest.expiring)
    count = evidence_count + sum(len(e) for e in digest.entries.values())
    rows = lambda versions: [  # noqa: E731
        {"version": v, "control": v.item.control, "url": _item_url(org, v)} for v in versions
    ]
    context = {
        "organization": org,
        "user": digest.user,
        "stale": rows(digest.stale),
        "expiring": rows(digest.expiring),
        "count": evidence_count,
        "sections": list(digest.entries.items()),
        "overview_url": settings.SITE_URL
        + reverse("evidence_overview", kwargs={"org_slug": org.slug}),
        "expiring_days": settings.EVIDENCE_EXPIRING_DAYS,
    }
    noun = "item needs" if count == 1 else "items need"
    if digest.entries:
        noun = "thing needs" if count == 1 else "things need"
    else:
        noun = f"evidence {noun}"
    message = EmailMultiAlternatives(
        # Header-safe: a name stored before names were checked may hold a line break.
        subject=f"{header_safe(org.name)}: {count} {noun} attention",
        body=render_to_string("emails/evidence_digest.txt", context),
        to=[digest.user.email],
    )
    message.attach_alternative(
        render_to_string("emails/evidence_digest.html", context), "text/html"
    )
    return message


def digests_retry() -> int:
    """Hourly: write the digests of changes nobody was told about, and mail every digest still
    in an outbox (a mail outage, a run killed mid-send); returns digests the server accepted."""
    from tenants.context import org_scope

    # Sections' news waits for the daily run (or rides along with evidence changes here).
    orgs = {org.pk: org for org in organizations_to_notify((), sections=False)}
    unsent = organizations_with_unsent() - set(orgs)
    orgs.update({org.pk: org for org in Organization.objects.filter(pk__in=unsent)})
    sent = 0
    for org in sorted(orgs.values(), key=lambda o: o.slug):
        with org_scope(org):
            digests_send(organization=org, deliver=False)
            sent += digests_deliver(organization=org)
    return sent


def digests_send(
    *,
    organization: Organization,
    deliver: bool = True,
    today: dt.date | None = None,
    told: dict[str, int] | None = None,
) -> int:
    """Claim what became expiring/stale in ``organization`` and write its digests to the
    outbox, in one transaction; once it commits, mail the outbox (unless ``deliver`` is off:
    the caller does). Returns the digests written; ``told`` (when given) receives the number
    of other sections' entries by heading."""
    token = uuid.uuid4()
    today = today or timezone.localdate()
    scope = EvidenceVersion.objects.for_org(organization)
    with transaction.atomic():
        claimed = _pending(scope).update(notified_freshness=F("freshness"), notify_claim=token)
        extra = [e for s in _SECTIONS.values() for e in s.claim_for(organization, token, today)]
        if told is not None:
            for entry in extra:
                told[entry.heading] = told.get(entry.heading, 0) + 1
        if not claimed and not extra:
            return 0
        rows = (
            scope.filter(notify_claim=token)
            .select_related("item__control__owner__user")
            .order_by("valid_until", "item__control__code", "pk")
        )
        digests: dict[int, Digest] = {}
        fallback: list[AbstractBaseUser] | None = None
        for version in rows:
            owner = version.item.control.owner
            if owner is not None and owner.is_active and owner.user.email:
                users = [owner.user]
            else:
                fallback = _fallback_recipients(organization) if fallback is None else fallback
                users = fallback
            for user in users:
                digests.setdefault(user.pk, Digest(user=user)).add(version)
        for entry in extra:
            users = [m.user for m in entry.owners if m.is_active and m.user.email]
            if not users:
                fallback = _fallback_recipients(organization) if fallback is None else fallback
                users = fallback
            for user in users:
                digests.setdefault(user.pk, Digest(user=user)).add_entry(entry)
        messages = [_message(organization, d) for d in digests.values()]
        EvidenceDigest.objects.bulk_create(
            EvidenceDigest(
                organization=organization,
                recipient=digest.user,
                email=digest.user.email,
                subject=message.subject,
                body_text=message.body,
                body_html=message.alternatives[0][0] if message.alternatives else "",
                versions=sorted(v.pk for v in digest.stale + digest.expiring),
            )
            for digest, message in zip(digests.values(), messages, strict=True)
        )
        activity_record(
            organization=organization,
            actor=Actor.system("freshness check"),
            action="notify",
            object_type="evidence.digest",
            object_repr=f"{len(messages)} evidence digests about {claimed} versions",
            changes={
                "recipients": [None, sorted(d.user.email for d in digests.values())],
                "versions": [None, claimed],
                **({"other_items": [None, len(extra)]} if extra else {}),
            },
        )
        if not messages:
            logger.warning("%s: %d evidence changes but nobody to tell", organization.slug, claimed)
        elif deliver:
            transaction.on_commit(lambda: digests_deliver(organization=organization))
    return len(messages)
