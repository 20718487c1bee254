"""The public trust center: only what was chosen is shown or reachable, each document's
visibility, the request → approval → watermarked download path, caching and rate limits."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from soc2app.errors import Conflict, NotFound
from tenants.models import ActivityEntry
from tests.trust.conftest import build_center
from trust import services
from trust.models import TrustRequest
from trust.requests import request_decide

pytestmark = pytest.mark.django_db


def page_url(center) -> str:
    return reverse("trust_page", kwargs={"slug": center.slug})


def request_url(center, doc) -> str:
    return reverse("trust_request", kwargs={"slug": center.slug, "pk": doc.pk})


def doc_url(center, doc) -> str:
    return reverse("trust_document", kwargs={"slug": center.slug, "pk": doc.pk})


def ask(client, center, doc, **fields):
    page = client.get(request_url(center, doc))
    shown = re.search(rb'name="shown" value="([0-9a-f]{64})"', page.content).group(1).decode()
    data = {"name": "Ana Buyer", "email": "ana@buyer.example.com", "company": "Buyer Inc"}
    data.update({"nda": "on", "shown": shown})
    data.update(fields)
    return client.post(request_url(center, doc), {k: v for k, v in data.items() if v is not None})


def link_in_mail() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/trust/\S+/download/\S+/)", body).group(1)


def test_the_page_shows_what_was_chosen_and_nothing_else(published):
    center = published["center"]
    html = Client().get(page_url(center)).content.decode()
    assert "Acme security" in html and "How we keep your data safe." in html
    assert "SOC 2 Type 1 as of" in html
    assert "Security" in html  # a category in scope
    assert "Access reviews" in html and "Encryption at rest" in html
    assert "Secret hiring rule" not in html  # not chosen
    # AC-1 operating (green), AC-2 implemented without evidence (amber).
    access = html.index("Access reviews")
    assert html.rfind("trust-dot green", 0, access) > html.rfind("trust-dot amber", 0, access)
    encryption = html.index("Encryption at rest")
    assert html.rfind("trust-dot amber", 0, encryption) > html.rfind(
        "trust-dot green", access, encryption
    )
    assert "evidence.example.com" not in html  # never evidence
    assert "Cloudy Hosting" in html and "Private Lunch Co" not in html
    assert "Security policy" in html and "SOC 2 Type 1 report" in html


def test_an_unpublished_or_unknown_trust_center_is_not_found(owner, make_audit):
    made = build_center(owner, make_audit, published=False)
    center, private = made["center"], made["private"]
    client = Client()
    assert client.get(page_url(center)).status_code == 404
    assert client.get(doc_url(center, made["public"])).status_code == 404
    assert client.get(request_url(center, private)).status_code == 404
    assert client.get("/trust/nobody-here/").status_code == 404


def test_a_public_document_downloads_at_once_a_private_one_never_directly(published):
    center, public, private = published["center"], published["public"], published["private"]
    client = Client()
    got = client.get(doc_url(center, public))
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert got["Content-Disposition"].startswith("attachment")
    # The private document's file is not at its document URL, nor is its request page for
    # the public one.
    assert client.get(doc_url(center, private)).status_code == 404
    assert client.get(request_url(center, public)).status_code == 404
    services.document_withdraw(membership=published["owner"], document=public)
    assert client.get(doc_url(center, public)).status_code == 404
    assert "Security policy" not in client.get(page_url(center)).content.decode()


def test_a_private_document_after_the_nda_and_approval_watermarked_and_logged(
    published, settings, commits
):
    settings.TRUST_LINK_MAX_DOWNLOADS = 2
    center, private, owner = published["center"], published["private"], published["owner"]
    visitor = Client(HTTP_USER_AGENT="VisitorBrowser/1.0")
    done = ask(visitor, center, private)
    assert done.status_code == 200 and b"Once it is approved" in done.content
    made = TrustRequest.objects.for_org(center.organization).get()
    assert made.status == "pending" and made.nda_text == "Keep it confidential."
    assert made.nda_sha256 == hashlib.sha256(b"Keep it confidential.").hexdigest()
    assert made.user_agent == "VisitorBrowser/1.0" and made.ip_address == "127.0.0.1"
    assert not mail.outbox
    # Nothing reachable before the approval.
    assert visitor.get(doc_url(center, private)).status_code == 404

    with commits(execute=True):
        request_decide(membership=owner, request=made, approve=True)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@buyer.example.com"]
    link = link_in_mail()
    made.refresh_from_db()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in made.token_sha256 and len(made.token_sha256) == 64

    got = visitor.get(link)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    text = pdf_text(got.content)
    today = timezone.localdate()
    stamp = f"Provided to ana@buyer.example.com, Buyer Inc, on {today:%-d %b %Y}"
    assert text.count(stamp) >= 4  # top and bottom of both pages
    assert "Acme SOC 2 report, page 2" in text
    assert visitor.get(link).status_code == 200
    used = visitor.get(link)
    assert used.status_code == 410 and b"used as many times" in used.content

    actions = list(
        ActivityEntry.objects.for_org(center.organization)
        .filter(object_type="trust.trustrequest")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["request", "nda_accept", "approve", "download", "download"]


def test_an_expired_link_a_denied_request_and_a_wrong_token(published, commits):
    center, private, owner = published["center"], published["private"], published["owner"]
    visitor = Client()
    ask(visitor, center, private)
    ask(visitor, center, private, email="bo@other.example.com")
    first, second = TrustRequest.objects.for_org(center.organization).order_by("pk")
    with commits(execute=True):
        request_decide(membership=owner, request=first, approve=True)
    link = link_in_mail()
    TrustRequest.objects.for_org(center.organization).filter(pk=first.pk).update(
        link_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    expired = visitor.get(link)
    assert expired.status_code == 410 and b"expired" in expired.content
    request_decide(membership=owner, request=second, approve=False)
    assert len(mail.outbox) == 1  # no link for a denied request
    second.refresh_from_db()
    assert second.status == "denied" and second.token_sha256 == ""
    with pytest.raises(Conflict):
        with commits(execute=True):
            request_decide(membership=owner, request=second, approve=True)
    bad = reverse("trust_download", kwargs={"slug": center.slug, "token": "x" * 43})
    assert visitor.get(bad).status_code == 404


def test_an_allow_listed_domain_is_approved_at_once(published, commits):
    center, private = published["center"], published["private"]
    with commits(execute=True):
        done = ask(Client(), center, private, email="cto@Friendly.example.com")
    assert b"is approved" in done.content
    made = TrustRequest.objects.for_org(center.organization).get()
    assert made.status == "approved" and made.auto_approved
    assert made.decided_by_label == "allow-listed domain friendly.example.com"
    assert Client().get(link_in_mail()).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, b"valid email"),
        ({"nda": None}, b"accept the NDA"),
        ({"name": "x" * 5000}, b"at most 200 characters"),
        ({"company": ""}, b"This field is required"),
        ({"shown": "0" * 64}, b"The NDA changed"),
    ],
)
def test_bad_requests_are_refused_clearly_and_store_nothing(published, fields, message):
    center, private = published["center"], published["private"]
    refused = ask(Client(), center, private, **fields)
    assert refused.status_code == 400 and message in refused.content
    assert not TrustRequest.objects.for_org(center.organization).exists()


def test_another_organizations_trust_center_never_shows_or_serves_ours(
    published, outsider, make_audit, commits
):
    theirs = build_center(outsider, make_audit, slug="globex-trust")
    ours = published
    client = Client()
    html = client.get(page_url(theirs["center"])).content.decode()
    assert "Acme" not in html and "Globex" in html
    # Our documents under their slug, and theirs under ours: not found.
    assert client.get(doc_url(theirs["center"], ours["public"])).status_code == 404
    assert client.get(request_url(theirs["center"], ours["private"])).status_code == 404
    assert client.get(doc_url(ours["center"], theirs["public"])).status_code == 404
    # A link of ours is not a link under their slug.
    ask(client, ours["center"], ours["private"])
    made = TrustRequest.objects.for_org(ours["center"].organization).get()
    with commits(execute=True):
        request_decide(membership=ours["owner"], request=made, approve=True)
    token_path = link_in_mail()
    under_theirs = token_path.replace(ours["center"].slug, theirs["center"].slug)
    assert client.get(under_theirs).status_code == 404
    # Their owner cannot decide our requests.
    made2 = ask(client, ours["center"], ours["private"], email="cy@buyer.example.com")
    assert made2.status_code == 200
    pending = TrustRequest.objects.for_org(ours["center"].organization).get(status="pending")
    with pytest.raises(NotFound):
        with commits(execute=True):
            request_decide(membership=outsider, request=pending, approve=True)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_the_cached_page_costs_one_query_and_a_settings_change_shows_at_once(
    published, django_assert_max_num_queries
):
    center, owner = published["center"], published["owner"]
    client = Client()
    first = client.get(page_url(center))
    assert first.status_code == 200
    with django_assert_max_num_queries(2):  # the route lookup; the page comes from the cache
        again = client.get(page_url(center))
    assert again.content == first.content
    services.center_save(membership=owner, headline="Brand new headline")
    assert b"Brand new headline" in client.get(page_url(center)).content
    services.controls_publish(membership=owner, control_ids=[published["green"].pk])
    assert b"Encryption at rest" not in client.get(page_url(center)).content


def test_pages_are_rate_limited_per_client_address(published, settings):
    settings.TRUST_RATE_PER_IP = 3
    center = published["center"]
    client = Client()
    assert [client.get(page_url(center)).status_code for _ in range(3)] == [200] * 3
    limited = client.get(page_url(center))
    assert limited.status_code == 429 and b"Too many requests" in limited.content
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.get(page_url(center)).status_code == 200


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what a service defers to after the commit (the e-mails)."""
    return django_capture_on_commit_callbacks


def pdf_text(data: bytes) -> str:
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        ["/usr/bin/pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode()
