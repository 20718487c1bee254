"""The freshness check: states at their boundaries, idempotence, digests, the command."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from evidence import services
from evidence.freshness import freshness_check, freshness_update
from evidence.models import EvidenceDigest, EvidenceVersion, FreshnessCheckDay
from evidence.notifications import digests_send
from evidence.tasks import check_freshness, check_freshness_catch_up
from tenants.activity import Actor
from tenants.models import ActivityEntry, Organization, Role
from tenants.services import membership_add
from tests.factories import ControlFactory, EvidenceItemFactory, UserFactory, evidence_row

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _expiring_window(settings):
    settings.EVIDENCE_EXPIRING_DAYS = 14


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the check like the command does, e-mails sent once the claims commit."""

    def go(today=TODAY, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return freshness_check(today=today, **kwargs)

    return go


def _row(control, valid_until, **kwargs):
    return evidence_row(control, TODAY - 30 * DAY, valid_until=valid_until, **kwargs)


def _states(*versions):
    return [
        EvidenceVersion.objects.for_org(v.organization_id).get(pk=v.pk).freshness for v in versions
    ]


def test_states_at_the_boundaries(org, control, run):
    rows = [
        _row(control, TODAY - DAY),  # ran out yesterday
        _row(control, TODAY),  # last valid day
        _row(control, TODAY + 13 * DAY),  # within the 14-day window
        _row(control, TODAY + 14 * DAY),  # just outside it
    ]
    run()
    assert _states(*rows) == ["stale", "expiring", "expiring", "fresh"]
    # The same rule as a version gets when it is created.
    assert [services.freshness_of(r.valid_until, TODAY) for r in rows] == _states(*rows)


def test_a_second_run_changes_nothing_and_sends_nothing(org, control, run):
    _row(control, TODAY - DAY)
    _row(control, TODAY + DAY)
    first = run()
    assert (first.changed, first.digests, len(mail.outbox)) == (2, 1, 1)
    second = run()
    assert (second.changed, second.digests) == (0, 0)
    assert len(mail.outbox) == 1
    assert freshness_update(organization=org, today=TODAY) == {}


def test_each_owner_gets_one_digest_listing_all_their_items(org, contributor, manager, run):
    other_owner = membership_add(
        organization=org, user=UserFactory(), role=Role.CONTRIBUTOR, actor=Actor.system()
    )
    mine = [ControlFactory(organization=org, owner=contributor) for _ in range(2)]
    theirs = ControlFactory(organization=org, owner=other_owner)
    stale = _row(mine[0], TODAY - 10 * DAY)
    expiring = _row(mine[1], TODAY + 3 * DAY)
    also_stale = _row(mine[1], TODAY - DAY)
    _row(theirs, TODAY - DAY)
    _row(mine[0], TODAY + 100 * DAY)  # still fresh: not mentioned

    result = run()

    assert result.organizations[org.slug].digests == 2
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {contributor.user.email, other_owner.user.email}
    digest = by_recipient[contributor.user.email]
    assert digest.subject == f"{org.name}: 3 evidence items need attention"
    body = digest.body
    for version in (stale, expiring, also_stale):
        assert version.item.title in body
        assert f"/o/{org.slug}/evidence/items/{version.item_id}/" in body
    assert body.index("No longer current") < body.index(stale.item.title) < body.index("Expiring")
    assert body.index("Expiring") < body.index(expiring.item.title)
    html = digest.alternatives[0]
    assert html[1] == "text/html" and stale.item.title in html[0]
    entry = ActivityEntry.objects.for_org(org).get(action="notify")
    assert entry.changes["versions"] == [None, 4]


def test_unowned_controls_go_to_the_compliance_managers(org, manager, owner, run):
    second_manager = membership_add(
        organization=org, user=UserFactory(), role=Role.COMPLIANCE_MANAGER, actor=Actor.system()
    )
    _row(ControlFactory(organization=org, owner=None), TODAY - DAY)
    run()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [manager.user.email, second_manager.user.email]
    )


def test_without_compliance_managers_the_owners_are_told(org, owner, run):
    _row(ControlFactory(organization=org, owner=None), TODAY - DAY)
    run()
    assert [m.to for m in mail.outbox] == [[owner.user.email]]


def test_an_owner_told_about_expiring_is_told_again_when_it_goes_stale(org, control, run):
    version = _row(control, TODAY + 5 * DAY)
    run()
    assert len(mail.outbox) == 1 and "Expiring" in mail.outbox[0].body
    run(today=TODAY + 3 * DAY)  # still expiring: nothing new
    assert len(mail.outbox) == 1
    run(today=TODAY + 6 * DAY)
    assert _states(version) == ["stale"]
    assert len(mail.outbox) == 2 and "No longer current" in mail.outbox[1].body


def test_only_the_latest_version_of_an_item_counts(org, control, run):
    old = _row(control, TODAY - 100 * DAY)
    new = evidence_row(control, TODAY - DAY, valid_until=TODAY + 60 * DAY, item=old.item)
    result = run()
    assert _states(old, new) == ["fresh", "fresh"]
    assert result.changed == 0 and mail.outbox == []


def test_removed_items_are_ignored(org, control, manager, run):
    version = _row(control, TODAY - DAY)
    services.evidence_item_remove(membership=manager, item=version.item, reason="Duplicate")
    result = run()
    assert _states(version) == ["fresh"]
    assert result.changed == 0 and mail.outbox == []


def test_one_organization_at_a_time(org, other_org, control, foreign_control, run):
    mine = _row(control, TODAY - DAY)
    theirs = _row(foreign_control, TODAY - DAY)
    result = run(organization=org)
    assert _states(mine, theirs) == ["stale", "fresh"]
    assert list(result.organizations) == [org.slug]
    everywhere = run()
    assert _states(theirs) == ["stale"]
    assert list(everywhere.organizations) == [other_org.slug]


def test_batches_cover_every_row(org, control, settings, run):
    settings.EVIDENCE_FRESHNESS_BATCH = 2
    rows = [_row(control, TODAY - DAY) for _ in range(5)]
    result = run()
    assert _states(*rows) == ["stale"] * 5
    assert result.organizations[org.slug].stale == 5
    assert result.digests == 1 and len(mail.outbox) == 1


def test_a_claimed_change_is_never_mailed_twice(org, control, django_capture_on_commit_callbacks):
    _row(control, TODAY - DAY)
    freshness_update(organization=org, today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send(organization=org) == 1
        # A second run that finds the change already claimed sends nothing.
        assert digests_send(organization=org) == 0
    assert len(mail.outbox) == 1


def test_no_email_before_the_claim_commits(org, control, django_capture_on_commit_callbacks):
    _row(control, TODAY - DAY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        freshness_check(today=TODAY)
    assert mail.outbox == [] and len(callbacks) == 1


# --- the command and the task ---------------------------------------------------------------


def test_the_command_prints_what_changed(org, control, capsys, django_capture_on_commit_callbacks):
    _row(control, TODAY - DAY)
    _row(control, TODAY - 2 * DAY)
    _row(control, TODAY + DAY)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_freshness", "--org", org.slug)
    out = capsys.readouterr().out
    assert f"{org.slug}: 2 stale, 1 expiring, 1 digest sent" in out
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_freshness")
    assert "Nothing changed." in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_the_command_refuses_an_unknown_organization(db):
    with pytest.raises(CommandError, match="no organization with the address 'nope'"):
        call_command("check_freshness", "--org", "nope")


def test_the_task_runs_the_same_check(org, control, django_capture_on_commit_callbacks):
    version = _row(control, timezone.localdate() - DAY)
    with django_capture_on_commit_callbacks(execute=True):
        result = check_freshness.apply(args=[org.pk]).get()
    assert result["changed"] == 1 and result["organizations"][org.slug]["stale"] == 1
    assert _states(version) == ["stale"]
    assert check_freshness.apply(args=[10**9]).get()["changed"] == 0


def test_the_task_is_scheduled_daily_and_retries_on_database_errors(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["evidence-check-freshness"]
    assert entry["task"] == check_freshness.name == "evidence.tasks.check_freshness"
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}
    catch_up = settings.CELERY_BEAT_SCHEDULE["evidence-check-freshness-catch-up"]
    assert catch_up["task"] == check_freshness_catch_up.name and catch_up["schedule"].hour == set(
        range(24)
    )
    assert check_freshness.acks_late and check_freshness.time_limit
    from django.db import OperationalError

    assert OperationalError in check_freshness.autoretry_for


@pytest.fixture
def eager_tasks():
    from soc2app.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_day_whose_check_never_ran_is_caught_up_once(
    org, control, settings, eager_tasks, django_capture_on_commit_callbacks
):
    """The broker was down at EVIDENCE_CHECK_HOUR: the hourly catch-up sends the check, once."""
    version = _row(control, timezone.localdate() - DAY)
    settings.EVIDENCE_CHECK_HOUR = 23  # not past the check's hour yet: nothing to catch up
    assert check_freshness_catch_up() == "0 digests sent"
    assert _states(version) == ["fresh"]
    settings.EVIDENCE_CHECK_HOUR = -1  # past it, and today's check has not finished
    with django_capture_on_commit_callbacks(execute=True):
        assert check_freshness_catch_up() == "check sent"
    assert _states(version) == ["stale"]
    day = FreshnessCheckDay.objects.get(day=timezone.localdate())
    assert day.changed == 1
    assert check_freshness_catch_up() == "0 digests sent"  # done today


def test_a_digest_the_mail_server_refused_goes_out_with_the_next_attempt(
    org, control, run, settings, django_capture_on_commit_callbacks
):
    """No mail server listening: the digest stays in the outbox, nothing is lost; the hourly
    retry sends it once the server is back, and only once."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on: a real refused connection
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    version = _row(control, TODAY - DAY)
    first = run()
    assert first.changed == 1 and len(mail.outbox) == 0
    digest = EvidenceDigest.objects.for_org(org).get()
    assert digest.sent_at is None and digest.claimed_until is None and digest.attempts == 1
    assert digest.versions == [version.pk] and "Connection refused" in digest.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # back up
    settings.EVIDENCE_CHECK_HOUR = 23  # whatever the hour now: only the retry of digests
    with django_capture_on_commit_callbacks(execute=True):
        assert check_freshness_catch_up() == "1 digests sent"
    assert len(mail.outbox) == 1 and "1 evidence item needs attention" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        assert check_freshness_catch_up() == "0 digests sent"
    assert len(mail.outbox) == 1


def test_only_a_system_wide_check_counts_as_the_days_check(org, control):
    check_freshness.apply(args=[org.pk]).get()
    assert not FreshnessCheckDay.objects.exists()
    check_freshness.apply().get()
    check_freshness.apply().get()  # again the same day: one row
    assert FreshnessCheckDay.objects.filter(day=timezone.localdate()).count() == 1


def test_subscribed_webhooks_hear_of_stale_and_expiring_evidence_once(
    org, owner, control, run, settings
):
    from tenants.models import WebhookDelivery
    from tenants.webhooks.services import webhook_endpoint_create

    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook_endpoint_create(
        membership=owner, url="http://127.0.0.1:9/hook", events=["evidence.stale"]
    )
    _row(control, TODAY - DAY, item=EvidenceItemFactory(control=control))
    _row(control, TODAY + DAY, item=EvidenceItemFactory(control=control))
    run()
    run()  # nothing changed the second time: no second event
    deliveries = list(WebhookDelivery.objects.for_org(org))
    assert [d.event for d in deliveries] == ["evidence.stale"]  # expiring: not subscribed
    assert deliveries[0].payload["versions"] == 1


def test_a_stored_name_with_a_line_break_gets_a_safe_digest_subject(org, control, run):
    # Names are checked at creation now; one stored before must not break every digest.
    Organization.objects.filter(pk=org.pk).update(name="Acme\r\nBcc: x@example.com")
    _row(control, TODAY - DAY)
    run()
    assert [m.subject for m in mail.outbox] == [
        "Acme Bcc: x@example.com: 1 evidence item needs attention"
    ]
