"""The client's address behind reverse proxies (soc2app/client_ip.py): allauth's failed-login
limit and the activity log's download entries (tests/evidence/test_download.py) count the client, not the proxy, and ignore
what a client forges in X-Forwarded-For."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from soc2app.client_ip import client_ip

PROXY = "10.0.0.5"  # REMOTE_ADDR of every request: the reverse proxy
ALICE = "198.51.100.7"
BOB = "198.51.100.8"
LOCKED = "Too many failed login attempts"


def _request(xff: str | None = None, **headers: str):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **extra, **headers)


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(f"{ALICE}")) == PROXY  # a header anyone can send is ignored


def test_one_trusted_proxy_takes_the_address_it_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(ALICE)) == ALICE
    # Forged entries to the left are the client's own words: ignored.
    assert client_ip(_request(f"203.0.113.1, 203.0.113.2, {ALICE}")) == ALICE
    assert client_ip(_request("[2001:db8::1]:443")) == "2001:db8::1"
    # Garbage, or no header at all (a request that bypassed the proxy): the peer.
    assert client_ip(_request("not-an-ip")) == PROXY
    assert client_ip(_request()) == PROXY


def test_two_proxies_and_a_request_that_skipped_the_outer_one(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(f"203.0.113.1, {ALICE}, 10.0.0.9")) == ALICE
    # Fewer entries than proxies: no 500 (allauth raises ImproperlyConfigured), the leftmost.
    assert client_ip(_request(ALICE)) == ALICE


def test_a_trusted_client_ip_header(settings):
    settings.TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(_request(f"{BOB}", HTTP_X_REAL_IP=ALICE)) == ALICE
    assert client_ip(_request(HTTP_X_REAL_IP="bogus")) == PROXY


def _fail_login(xff: str, email: str) -> str:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)
    response = client.post(reverse("account_login"), {"login": email, "password": "wrong-pass"})
    return response.content.decode()


@pytest.mark.django_db
def test_failed_logins_lock_out_the_client_not_everyone_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Ten failures from Alice, each for another address (the per-address limit stays out of
    # it) and each with another forged X-Forwarded-For entry in front of the proxy's.
    for n in range(10):
        body = _fail_login(f"203.0.113.{n}, {ALICE}", f"nobody{n}@example.com")
        assert LOCKED not in body
    assert LOCKED in _fail_login(f"203.0.113.99, {ALICE}", "nobody-else@example.com")
    # Bob, behind the same proxy, is not locked out (before: every client was the proxy).
    assert LOCKED not in _fail_login(BOB, "bob@example.com")
