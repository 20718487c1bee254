"""The policies section of ``manage.py bench``: an organization of 5,000 people, 20 policies
assigned to everyone and 100,000 acceptance records (bulk inserts); then the acceptance
overview (constant queries: the same count before and after a new version), its CSV export,
and a new version sent to the 5,000: the planning task, then the 25 batch tasks (links
written set-based, e-mails on one connection per batch) run one after the other in this
process (target < 30 s; workers run them in parallel). Mail goes to the in-memory outbox.
The CSV roster import of 5,000 rows is the ``people`` section."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import personal_links
from people.models import Person
from people.models_links import AssignmentTarget
from policies.links import PolicyLinks
from policies.models import (
    Acceptance,
    AcceptanceChannel,
    AcceptanceLink,
    Policy,
    PolicyAssignment,
    PolicyVersion,
    VersionState,
)
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role

BODY = "# Policy\n\n{{ organization_name }} expects everyone to follow this policy.\n" * 20


def _version(org, policy, number: int) -> PolicyVersion:
    return PolicyVersion(
        organization=org,
        policy=policy,
        number=number,
        state=VersionState.APPROVED,
        body=BODY,
        sha256="a" * 64,
        approved_at=timezone.now(),
        approved_by_label="bench approver",
    )


def acceptances_bulk(org, version: PolicyVersion, person_ids: list[int]) -> None:
    """``version`` accepted by each of ``person_ids`` (bulk inserts; the bench and tests)."""
    Acceptance.objects.bulk_create(
        (
            Acceptance(
                organization=org,
                person_id=pk,
                version=version,
                text_sha256="b" * 64,
                consent="I have read the policy.",
                channel=AcceptanceChannel.LINK,
            )
            for pk in person_ids
        ),
        batch_size=5000,
    )


def seed(*, people: int, policies: int, slug: str = "bench-policies"):
    org = Organization.objects.create(name="Bench Policies Inc.", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER).save()
    with org_scope(org):
        persons = Person.objects.bulk_create(
            Person(
                organization=org,
                full_name=f"Person {i:05d}",
                email=f"person{i:05d}@example.com",
                department=f"Department {i % 12}",
                start_date=dt.date(2022, 1, 3) + dt.timedelta(days=i % 700),
            )
            for i in range(people)
        )
        rows = Policy.objects.bulk_create(
            Policy(organization=org, title=f"Policy {i:02d}") for i in range(policies)
        )
        versions = PolicyVersion.objects.bulk_create(_version(org, p, 1) for p in rows)
        PolicyAssignment.objects.bulk_create(
            PolicyAssignment(organization=org, policy=p, target=AssignmentTarget.EVERYONE)
            for p in rows
        )
        for version in versions:
            acceptances_bulk(org, version, [p.pk for p in persons])
    _analyze("people_person", "policies_acceptance")
    return org, user, rows[0]


def _analyze(*tables: str) -> None:
    """Planner statistics, as autovacuum keeps them after bulk writes (without them the
    planner takes a fresh table for empty and joins it in a nested loop)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"ANALYZE {table}")


def _overview(results: Results, client: Client, path: str, label: str) -> int:
    client.get(path)  # the session's first request caches what it loads
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    # Counted now: the next requests reset the log the context reads from.
    count = len(queries)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    elapsed, response = timed(lambda: client.get(path), repeat=3)
    if response.status_code != 200:
        raise RuntimeError(f"the acceptance overview answered {response.status_code}")
    results.add(
        "policies",
        label,
        seconds(elapsed),
        f"{count} queries; slowest {float(slowest['time']) * 1000:.0f} ms: {slowest['sql'][:60]}",
    )
    return count


def run(results: Results, *, scale: float = 1.0) -> None:
    people = max(100, int(5000 * scale))
    policies = 20
    elapsed, (org, user, policy) = timed(lambda: seed(people=people, policies=policies))
    results.add(
        "policies",
        f"seed {people:,} people, {policies} policies, {people * policies:,} acceptances",
        seconds(elapsed),
    )
    client = Client()
    client.force_login(user)
    path = reverse("policy_acceptance", kwargs={"org_slug": org.slug, "pk": policy.pk})
    before = _overview(results, client, path, f"acceptance overview ({people:,} accepted)")
    elapsed, response = timed(lambda: client.get(path + "?format=csv"))
    results.add("policies", f"acceptance CSV export ({people:,} rows)", seconds(elapsed))

    backend, settings.EMAIL_BACKEND = (
        settings.EMAIL_BACKEND,
        "django.core.mail.backends.locmem.EmailBackend",
    )
    mail.outbox = []
    try:
        with org_scope(org):
            version = _version(org, policy, 2)
            version.save()
            elapsed, batches = timed(lambda: personal_links.batches_plan(PolicyLinks(version)))
            results.add(
                "policies",
                f"new version: plan {len(batches)} batch tasks",
                seconds(elapsed),
                f"{people:,} people to ask",
            )
            counts = []

            def batches_send() -> int:
                sent = 0
                for ids in batches:
                    loaded = (
                        PolicyVersion.objects.for_org(org)
                        .select_related("policy", "organization")
                        .get(pk=version.pk)
                    )
                    with CaptureQueriesContext(connection) as queries:
                        sent += personal_links.batch_send(PolicyLinks(loaded), ids).sent
                    counts.append(len(queries))
                return sent

            elapsed, sent = timed(batches_send)
            links = AcceptanceLink.objects.for_org(org).filter(
                version=version, sent_at__isnull=False
            )
            if sent != people or links.count() != people or len(mail.outbox) != people:
                raise RuntimeError(f"{sent} of {people} links sent")
            results.add(
                "policies",
                f"new version: {people:,} links + e-mails (target < 30 s)",
                seconds(elapsed),
                f"{len(batches)} batches, {min(counts)}-{max(counts)} queries each",
            )
    finally:
        settings.EMAIL_BACKEND = backend
        mail.outbox = []
    _analyze("policies_acceptancelink")
    after = _overview(results, client, path, f"acceptance overview (v2: 0 of {people:,})")
    if after != before:
        raise RuntimeError(f"the overview's queries changed: {before} then {after}")
