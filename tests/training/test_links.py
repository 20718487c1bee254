"""Completing training through the e-mailed personal link: the built-in module (the hash of
the text shown), an external course with a certificate; expiry, reuse, a leaver, another
organization's token, a tampered token; certificates refused keep nothing; the record is
immutable (on PostgreSQL a trigger refuses changes)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from policies.markdown import text_sha256
from tests.scanner import hold_uploads
from tests.training.conftest import assign_everyone, links_in_outbox, person
from training import links, services
from training.models import TrainingCompletion, TrainingLink
from training.tasks import training_links_daily

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _shown(page) -> str:
    return re.search(rb'name="shown" value="([0-9a-f]{64})"', page.content).group(1).decode()


def test_a_joiner_completes_the_module_from_the_link(
    org, manager, module, client, django_capture_on_commit_callbacks
):
    ana = person(org, "Ana", start_date=timezone.localdate() - dt.timedelta(days=3))
    person(org, "Bo", start_date=timezone.localdate() + dt.timedelta(days=10))  # not started
    result = assign_everyone(manager, module, django_capture_on_commit_callbacks)
    assert result.sent == 1 and list(links_in_outbox()) == [ana.email]
    assert mail.outbox[0].subject.endswith(
        "please complete your training \u201cSecurity awareness\u201d"
    )
    path = links_in_outbox()[ana.email]
    page = client.get(path)
    assert page.status_code == 200 and b"Phishing" in page.content and b"Acme" in page.content
    refused = client.post(path, {"shown": _shown(page)})
    assert refused.status_code == 400 and TrainingCompletion.objects.for_org(org).count() == 0
    done = client.post(path, {"agree": "yes", "shown": _shown(page)}, HTTP_USER_AGENT="phone")
    assert done.status_code == 200, done.content[:300]
    record = TrainingCompletion.objects.for_org(org).get()
    assert record.source == "link" and record.completed_on == timezone.localdate()
    assert record.module_sha256 == text_sha256(services.module_text(module, org))
    assert record.user_agent == "phone" and record.ip_address
    again = client.get(path)
    assert again.status_code == 410 and b"used already" in again.content
    # Nothing more to send: the next cycle is a year away.
    assert links.links_send(module).sent == 0


def test_refusals_expired_leaver_other_org_tampered(
    org, other_org, manager, module, client, django_capture_on_commit_callbacks
):
    ana = person(org, "Ana", start_date=dt.date(2020, 1, 1))
    bo = person(org, "Bo", start_date=dt.date(2020, 1, 1))
    assign_everyone(manager, module, django_capture_on_commit_callbacks)
    paths = links_in_outbox()
    TrainingLink.objects.for_org(org).filter(person=ana).update(expires_at=timezone.now())
    assert client.get(paths[ana.email]).status_code == 410
    bo.end_date = timezone.localdate() - dt.timedelta(days=1)
    bo.save()
    assert client.get(paths[bo.email]).status_code == 410
    token = paths[bo.email].rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/training-link/{other_org.slug}/{token}/").status_code == 404
    assert client.get(paths[bo.email][:-3] + "xx/").status_code == 404
    assert client.get(f"/training-link/{org.slug}/{'a' * 200}/").status_code == 404
    assert TrainingCompletion.objects.for_org(org).count() == 0


def test_an_external_course_with_a_certificate_and_refusals_keep_nothing(
    org, manager, course, client, client_for, django_capture_on_commit_callbacks, settings, tmp_path
):
    ana = person(org, "Ana", start_date=timezone.localdate() - dt.timedelta(days=70))
    assign_everyone(manager, course, django_capture_on_commit_callbacks)
    path = links_in_outbox()[ana.email]
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()

    def post(name, data, **extra):
        upload = SimpleUploadedFile(name, data)
        return client.post(
            path, {"completed_on": day, "provider": "SANS", "certificate": upload, **extra}
        )

    wrong = post("cert.exe", b"MZ\x90\x00" + b"\x00" * 100)
    assert wrong.status_code == 400, wrong.content.decode()[-3000:]
    assert b"program" in wrong.content.lower()
    settings.TRAINING_CERTIFICATE_MAX_BYTES = 20
    big = post("cert.pdf", PDF)
    assert big.status_code == 400 and b"the limit is 20 bytes" in big.content
    settings.TRAINING_CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024
    hold_uploads(settings)  # ClamAV configured but unreachable: refused, nothing kept
    held = post("cert.pdf", PDF)
    assert held.status_code == 400 and b"malware" in held.content
    settings.CLAMAV_HOST = ""
    future = client.post(path, {"completed_on": "2999-01-01"})
    assert future.status_code == 400 and b"future" in future.content
    assert TrainingCompletion.objects.for_org(org).count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    done = post("certificate.pdf", PDF)
    assert done.status_code == 200, done.content[:400]
    record = TrainingCompletion.objects.for_org(org).get()
    assert record.certificate_type == "application/pdf" and record.certificate_size == len(PDF)
    assert record.certificate_name == "certificate.pdf" and record.provider == "SANS"
    assert record.completed_on.isoformat() == day and record.module_sha256 == ""
    assert [p for p in media.rglob("*") if p.is_file()]
    # The manager downloads it from the requirement page, as an attachment.
    mclient = client_for(manager)
    page = mclient.get(reverse("training_detail", kwargs={"org_slug": org.slug, "pk": course.pk}))
    href = reverse("training_certificate", kwargs={"org_slug": org.slug, "pk": record.pk})
    assert href.encode() in page.content
    got = mclient.get(href)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert (
        got["Content-Disposition"].startswith("attachment")
        and "sandbox" in got["Content-Security-Policy"]
    )
    assert client.get(href).status_code in (302, 403, 404)  # the person: no account


def test_the_daily_job_sends_reminders_and_the_next_cycle(
    org, manager, module, django_capture_on_commit_callbacks, settings
):
    ana = person(org, "Ana", start_date=dt.date(2020, 1, 1))
    assign_everyone(manager, module, django_capture_on_commit_callbacks)
    assert training_links_daily() == 0  # sent today: nothing again
    TrainingLink.objects.for_org(org).update(sent_at=timezone.now() - dt.timedelta(days=8))
    first = links_in_outbox()[ana.email]
    assert training_links_daily() == 1 and "Reminder" in mail.outbox[-1].subject
    assert links_in_outbox()[ana.email] != first
    link = TrainingLink.objects.for_org(org).get()
    assert link.reminders == 1
    # Completed last year: the next cycle comes due within the lead time and gets a new link.
    services.completion_record(
        organization=org,
        person=ana,
        requirement=module,
        completed_on=timezone.localdate() - dt.timedelta(days=360),
        source="import",
        actor=__import__("tenants.activity", fromlist=["Actor"]).Actor.system("test"),
    )
    before = len(mail.outbox)
    assert training_links_daily() == 1 and len(mail.outbox) == before + 1
    assert TrainingLink.objects.for_org(org).count() == 2


def test_completions_are_immutable(org, manager, module):
    ana = person(org, "Ana")
    services.assignment_add(membership=manager, requirement=module, target="everyone")
    record = services.completion_by_manager(
        membership=manager,
        requirement=module,
        person=ana,
        completed_on=timezone.localdate(),
    )
    with pytest.raises(ValueError):
        record.save()
    if connection.vendor != "postgresql":
        return
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingCompletion.objects.for_org(org).filter(pk=record.pk).update(provider="changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingCompletion.objects.for_org(org).filter(pk=record.pk).delete()
    assert TrainingCompletion.objects.for_org(org).get().provider == ""
