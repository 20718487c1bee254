"""``LazyMessageMiddleware``: the message storage is made only when a request uses it, and
messages still reach the next page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import empty

from tests.api.conftest import org_url


def test_a_flash_message_reaches_the_page_after_the_redirect(org, manager, client_for, catalog):
    client = client_for(manager)
    response = client.post(
        reverse("audit_create", kwargs={"org_slug": org.slug}),
        {"name": "FY27", "audit_type": "type1", "as_of_date": "2027-03-31"},
        follow=True,
    )
    assert response.status_code == 200
    assert "FY27 was created. Choose its scope next." in response.content.decode()
    # Shown once: the next page no longer has it.
    again = client.get(response.request["PATH_INFO"])
    assert "was created" not in again.content.decode()


def test_a_request_that_never_uses_messages_makes_no_storage(org, manager, client_for):
    client = client_for(manager)
    response = client.get(org_url(org, "controls/"))
    assert response.status_code == 200
    assert response.wsgi_request._messages._wrapped is empty  # never made
    assert "messages" not in response.cookies
