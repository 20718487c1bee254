"""The digest outbox, with a real SMTP server on loopback and a real process killed mid-send:
a digest is marked sent only once the server accepted it, a sender that died leaves it to the
retry once its claim runs out, and nothing that went out is sent again."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from evidence.freshness import freshness_check
from evidence.models import EvidenceDigest, EvidenceVersion, Freshness
from evidence.notifications import digests_retry
from tests.factories import ControlFactory, evidence_row
from tests.smtp_server import smtp_server
from tests.workers import database_url

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


@pytest.fixture
def control(org, manager):
    return ControlFactory(organization=org, owner=manager)


@pytest.fixture
def smtp_to(settings):
    """Point Django's SMTP backend at a test server."""

    def use(server) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
            "127.0.0.1",
            server.port,
            10,
        )

    return use


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    """The check as the command runs it: digests mailed once their transaction commits."""

    def go() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return freshness_check(today=TODAY).digests

    return go


def _stale(control) -> EvidenceVersion:
    return evidence_row(control, TODAY - 30 * DAY, valid_until=TODAY - DAY)


def _digest(org) -> EvidenceDigest:
    return EvidenceDigest.objects.for_org(org).get()


@pytest.mark.django_db
def test_a_digest_goes_out_once_when_nothing_fails(org, control, manager, smtp_to, check):
    version = _stale(control)
    with smtp_server() as server:
        smtp_to(server)
        assert check() == 1
        assert len(server.messages) == 1
        assert server.messages[0]["To"] == manager.user.email
        assert "1 evidence item needs attention" in server.messages[0]["Subject"]
        digest = _digest(org)
        assert digest.sent_at is not None and digest.claim_token is None
        assert digest.versions == [version.pk] and digest.attempts == 1
        # Again: the check, and the hourly retry, find nothing to send.
        assert check() == 0
        assert digests_retry() == 0
        assert len(server.messages) == 1


def _check_in_a_process(tmp_path: Path, org, port: int) -> subprocess.Popen:
    """``manage.py check_freshness`` in its own process, mailing through ``port``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_TIMEOUT": "600",  # the server stalls; the process is killed long before
        "EVIDENCE_EXPIRING_DAYS": str(django_settings.EVIDENCE_EXPIRING_DAYS),
    }
    return subprocess.Popen(  # noqa: S603 (our own interpreter and command)
        [sys.executable, "manage.py", "check_freshness", "--org", org.slug],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "check.log").open("w"),
        start_new_session=True,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_leaves_the_digest_to_the_retry(
    org, control, manager, smtp_to, tmp_path
):
    version = _stale(control)
    with smtp_server(stall=True) as stalling:
        process = _check_in_a_process(tmp_path, org, stalling.port)
        try:
            # The message went over the wire; the server never says it took it.
            assert stalling.stalled.wait(timeout=120), (tmp_path / "check.log").read_text()
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the machine dies mid-conversation
            process.wait(timeout=20)
    # The change was told to the outbox, and the outbox still holds the digest, claimed.
    row = EvidenceVersion.objects.for_org(org).get(pk=version.pk)
    assert row.freshness == row.notified_freshness == Freshness.STALE
    digest = _digest(org)
    assert digest.sent_at is None and digest.claimed_until > timezone.now()
    assert digest.versions == [version.pk]

    with smtp_server() as server:
        smtp_to(server)
        # While the dead sender's claim lasts, nobody sends it (it might still be running).
        assert digests_retry() == 0 and server.messages == []
        # The claim ran out (EVIDENCE_DIGEST_CLAIM_MINUTES): the hourly retry sends it.
        EvidenceDigest.objects.for_org(org).update(claimed_until=timezone.now() - DAY)
        assert digests_retry() == 1
        assert len(server.messages) == 1
        assert server.messages[0]["To"] == manager.user.email
        assert _digest(org).sent_at is not None
        # Sent: the next retries send nothing.
        assert digests_retry() == 0 and len(server.messages) == 1


@pytest.mark.django_db
def test_a_stalled_mail_server_times_out_and_keeps_the_digest(
    org, control, smtp_to, settings, check
):
    """In-process, with ``EMAIL_TIMEOUT``: the stalled send fails, the claim is released at
    once (the server failed, not the sender) and the retry sends it to a working server."""
    _stale(control)
    with smtp_server(stall=True) as stalling:
        smtp_to(stalling)
        settings.EMAIL_TIMEOUT = 1
        assert check() == 1  # written; not sent
    digest = _digest(org)
    assert digest.sent_at is None and digest.claimed_until is None
    assert "timed out" in digest.last_error
    with smtp_server() as server:
        smtp_to(server)
        assert digests_retry() == 1 and len(server.messages) == 1
