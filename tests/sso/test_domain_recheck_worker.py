"""The daily re-check run by a real Celery worker (Redis broker, PostgreSQL; under
``tests.rls_app_role`` its tasks meet row-level security and find the organizations to visit
on its own system connection, as in production), asking a local DNS server and e-mailing
through a local SMTP server."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from soc2app.tasks import domains_recheck_daily
from sso import services
from sso.domains import expected_value
from sso.models import SsoDomain
from tenants.models import ActivityEntry, Role
from tests.smtp_server import smtp_server
from tests.sso.verification_servers import LocalDns
from tests.workers import celery_worker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_a_worker_unverifies_a_third_failing_day_and_leaves_the_other_organization(
    owner, other_org, make_member, settings, tmp_path
):
    theirs = make_member(other_org, Role.OWNER)
    with LocalDns() as dns, smtp_server() as smtp:
        settings.SSO_DNS_NAMESERVER = f"127.0.0.1:{dns.port}"
        rows = {}
        for member, name in ((owner, "acme.test"), (theirs, "globex.test")):
            row = services.domain_add(membership=member, domain=name)
            dns.records.txt[name] = [expected_value(row.token)]
            rows[name] = services.domain_verify(membership=member, domain_id=row.pk, method="dns")
        del dns.records.txt["acme.test"]
        # Two failed days behind it, and the other organization's domain checked yesterday.
        yesterday = timezone.now() - dt.timedelta(days=1)
        for name, failures in (("acme.test", 2), ("globex.test", 0)):
            SsoDomain.objects.for_org(rows[name].organization_id).filter(pk=rows[name].pk).update(
                last_checked_at=yesterday, check_failures=failures
            )
        env = {
            "SSO_DNS_NAMESERVER": settings.SSO_DNS_NAMESERVER,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
        }
        # The daily task sends one task per organization to the default queue: this worker's.
        queue = f"test-domains-{uuid.uuid4().hex[:12]}"
        env["CELERY_TASK_DEFAULT_QUEUE"] = queue
        with celery_worker(tmp_path, "test-domains", queue=queue, **env):
            domains_recheck_daily.apply_async(queue=queue)

            def fresh(name: str) -> SsoDomain:
                row = rows[name]
                return SsoDomain.objects.for_org(row.organization_id).get(pk=row.pk)

            wait_for(lambda: fresh("acme.test").verified_at is None, 60, "the unverified domain")
            wait_for(lambda: smtp.messages, 30, "the owners' e-mail")
        kept = fresh("globex.test")
        assert kept.verified and kept.check_failures == 0 and kept.last_checked_at > yesterday
        assert ActivityEntry.objects.for_org(owner.organization).filter(
            action="sso.domain_unverified", actor_label="daily domain re-check"
        )
        assert not ActivityEntry.objects.for_org(other_org).filter(action="sso.domain_unverified")
        [mail] = smtp.messages
        assert mail["To"] == owner.user.email and "acme.test" in mail["Subject"]
