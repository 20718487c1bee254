"""A denied visitor is told, politely, by e-mail after the commit: no link, no reason (none is
recorded for them), not who decided; the same from the service, the API and the requests
page. A denial that does not happen (decided already) sends nothing; a mail server that is
down leaves the denial in place and is logged, not a 500."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.urls import reverse

from soc2app.errors import Conflict
from tests.trust.conftest import base, make_request
from trust.models import TrustRequest
from trust.requests import request_decide

pytestmark = pytest.mark.django_db


def _assert_polite_denial(message, made, request: TrustRequest) -> None:
    org = made["center"].organization
    assert message.to == [request.email]
    assert message.subject == f"{org.name}: your request for {made['private'].title}"
    body = message.body
    # Not the name the visitor typed: anyone can file a request with someone else's address,
    # and a denial must not carry their text to that address.
    assert body.startswith("Hello,") and request.name not in body
    assert f'"{made["private"].title}"' in body and "could not share" in body
    assert "/download/" not in body and "http" not in body
    owner = made["owner"]
    assert owner.user.email not in body and "reason" not in body.lower()


def test_denying_emails_the_visitor_after_the_commit(published, django_capture_on_commit_callbacks):
    request = make_request(published)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        request_decide(membership=published["owner"], request=request, approve=False)
    assert mail.outbox == [] and len(pending) == 1  # nothing before the commit
    pending[0]()
    assert len(mail.outbox) == 1
    _assert_polite_denial(mail.outbox[0], published, request)


def test_a_denial_through_the_api_and_the_page(
    published, api_for, client_for, django_capture_on_commit_callbacks
):
    owner, org = published["owner"], published["owner"].organization
    by_api = make_request(published)
    by_page = make_request(published, "bo@buyer.example.com")
    with django_capture_on_commit_callbacks(execute=True):
        denied = api_for(owner).post(f"{base(org)}requests/{by_api.pk}/deny/")
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    url = reverse("trust_request_decide", kwargs={"org_slug": org.slug, "pk": by_page.pk})
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(owner).post(url, {"decision": "deny"}, follow=True)
    assert b"the visitor is told by e-mail" in page.content
    assert [m.to for m in mail.outbox] == [[by_api.email], [by_page.email]]
    _assert_polite_denial(mail.outbox[1], published, by_page)


def test_no_mail_when_nothing_was_denied(published, django_capture_on_commit_callbacks):
    owner = published["owner"]
    request = make_request(published)
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(membership=owner, request=request, approve=True)
    assert len(mail.outbox) == 1 and "/download/" in mail.outbox[0].body
    with pytest.raises(Conflict), django_capture_on_commit_callbacks(execute=True):
        request_decide(membership=owner, request=request, approve=False)
    assert len(mail.outbox) == 1
    request.refresh_from_db()
    assert request.status == "approved"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_mail_server_down_leaves_the_denial_logged(
    published, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_TIMEOUT = 2
    request = make_request(published)
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(membership=published["owner"], request=request, approve=False)
    request.refresh_from_db()
    assert request.status == "denied"
    assert f"e-mail for request {request.pk} could not be sent" in caplog.text
