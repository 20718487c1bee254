"""``/sso/`` (single sign-on by e-mail address) is rate-limited per client address and per
typed address, in the app's cache: over a limit the page says so with a 429, the refusal is
logged, and nothing else happens (no sign-in started, nothing stored)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tenants.models import ActivityEntry
from tests.sso.conftest import idp_url

pytestmark = pytest.mark.django_db


def _browser(ip: str = "203.0.113.5") -> Client:
    return Client(HTTP_HOST="testserver", REMOTE_ADDR=ip)


def _refused(response, words: str) -> None:
    assert response.status_code == 429, response.content[:500]
    page = response.content.decode()
    assert words in page and "try again" in page
    assert 'http-equiv="refresh"' not in page  # not on the way to any identity provider


def test_an_address_over_its_limit_is_refused_and_nothing_happens(settings, org, acme_oidc, caplog):
    settings.SSO_SIGNIN_RATE_PER_ADDRESS = 2
    browser = _browser()
    for _ in range(2):
        assert idp_url(browser.post("/sso/", {"email": "ana@acme.test"}))
    session = dict(browser.session.items())
    entries = ActivityEntry.objects.for_org(org).count()

    with caplog.at_level(logging.WARNING, logger="sso"):
        refused = browser.post("/sso/", {"email": " ANA@acme.test"})  # the same address
    _refused(refused, "Too many single sign-on attempts for ana@acme.test.")
    assert dict(browser.session.items()) == session  # no sign-in state was started
    assert ActivityEntry.objects.for_org(org).count() == entries
    (record,) = [r for r in caplog.records if "too many attempts" in r.getMessage()]
    assert (record.limit, record.ip, record.domain) == ("address", "203.0.113.5", "acme.test")

    # Another address from the same client is not held back; another browser typing the
    # refused one is (the count is the address's, wherever it is typed).
    assert idp_url(browser.post("/sso/", {"email": "bob@acme.test"}))
    _refused(_browser("198.51.100.7").post("/sso/", {"email": "ana@acme.test"}), "ana@acme.test")


def test_a_client_address_over_its_limit_is_refused_whatever_it_types(settings, caplog):
    settings.SSO_SIGNIN_RATE_PER_IP = 3
    browser = _browser()
    # Unknown domains and invalid input count too (listing domains costs attempts).
    typed = ["a@unknown.test", "b@unknown.test", "not an address"]
    assert [browser.post("/sso/", {"email": e}).status_code for e in typed] == [400, 400, 400]
    with caplog.at_level(logging.WARNING, logger="sso"):
        refused = browser.post("/sso/", {"email": "c@unknown.test"})
    _refused(refused, "Too many single sign-on attempts from your network.")
    assert [r.limit for r in caplog.records if "too many attempts" in r.getMessage()] == ["ip"]
    # A forged X-Forwarded-For buys nothing (no proxy is trusted here: TRUSTED_PROXY_COUNT=0).
    forged = browser.post("/sso/", {"email": "d@unknown.test"}, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert forged.status_code == 429
    # Viewing the page is not an attempt; another client is not held back.
    assert browser.get("/sso/").status_code == 200
    assert _browser("198.51.100.7").post("/sso/", {"email": "e@unknown.test"}).status_code == 400


def test_behind_a_trusted_proxy_each_client_has_its_own_count(settings):
    settings.SSO_SIGNIN_RATE_PER_IP = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = _browser("10.0.0.2")
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert proxy.post("/sso/", {"email": "a@unknown.test"}, **first).status_code == 400
    assert proxy.post("/sso/", {"email": "b@unknown.test"}, **first).status_code == 429
    second = {"HTTP_X_FORWARDED_FOR": "203.0.113.6"}
    assert proxy.post("/sso/", {"email": "c@unknown.test"}, **second).status_code == 400


def test_an_ipv6_client_is_counted_by_its_64_network(settings):
    """One device's privacy addresses (or a whole /64 it holds) are one client; another /64
    is another."""
    settings.SSO_SIGNIN_RATE_PER_IP = 2
    same_network = ["2001:db8:1:2::1", "2001:db8:1:2:aaaa::9", "2001:db8:1:2:ffff:1:2:3"]
    answers = [
        _browser(ip).post("/sso/", {"email": f"u{n}@unknown.test"}).status_code
        for n, ip in enumerate(same_network)
    ]
    assert answers == [400, 400, 429]
    other = _browser("2001:db8:1:3::1").post("/sso/", {"email": "x@unknown.test"})
    assert other.status_code == 400
