"""E-mail domains: added by an owner, verified by a DNS TXT record (a local DNS server) or a
well-known file (a local web server), and never claimed by two organizations."""

from __future__ import annotations

import pytest

from soc2app.errors import NotPermitted, ValidationFailed
from sso import services
from sso.domains import expected_value, normalize
from sso.models import SsoDomain
from tenants.models import ActivityEntry, Role
from tests.sso.verification_servers import LocalWeb

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_server(settings):
    with LocalWeb() as server:
        settings.SSO_VERIFY_FILE_SCHEME = "http"
        settings.SSO_VERIFY_FILE_HOST = "127.0.0.1"
        settings.SSO_VERIFY_FILE_PORT = server.port
        yield server


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example.COM", "example.com"),
        ("ana@example.com", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost", None),
        ("-bad.example", None),
        ("10.0.0.1", None),
        ("exa mple.com", None),
        ("", None),
    ],
)
def test_what_a_domain_is(raw, expected):
    assert normalize(raw) == expected


def test_a_dns_txt_record_verifies_a_domain(owner, dns_server):
    row = services.domain_add(membership=owner, domain="Acme.test")
    dns_server.records.txt["acme.test"] = ["v=spf1 -all", expected_value(row.token)]
    services.domain_verify(membership=owner, domain_id=row.pk, method="dns")
    row = SsoDomain.objects.for_org(owner.organization).get(pk=row.pk)
    assert row.verified and row.verified_method == "dns"
    actions = ActivityEntry.objects.for_org(owner.organization).values_list("action", flat=True)
    assert {"sso.domain_added", "sso.domain_verified"} <= set(actions)


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (None, "does not exist"),
        (["soc2app-verification=someone-elses-token"], "none is"),
    ],
)
def test_a_missing_or_wrong_txt_record_is_refused(owner, dns_server, records, message):
    row = services.domain_add(membership=owner, domain="acme.test")
    if records is not None:
        dns_server.records.txt["acme.test"] = records
    with pytest.raises(ValidationFailed, match=message):
        services.domain_verify(membership=owner, domain_id=row.pk, method="dns")
    row = SsoDomain.objects.for_org(owner.organization).get(pk=row.pk)
    assert not row.verified and message in row.last_check_error
    assert (
        ActivityEntry.objects.for_org(owner.organization)
        .filter(action="sso.domain_check_failed")
        .exists()
    )


def test_a_well_known_file_verifies_a_domain(owner, web_server):
    row = services.domain_add(membership=owner, domain="acme.test")
    web_server.files["acme.test"] = (200, expected_value(row.token) + "\n")
    services.domain_verify(membership=owner, domain_id=row.pk, method="file")
    assert SsoDomain.objects.for_org(owner.organization).get(pk=row.pk).verified_method == "file"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((404, "not found"), "did not answer with the file"),
        ((200, "something else"), "does not contain"),
    ],
)
def test_a_missing_or_wrong_file_is_refused(owner, web_server, answer, message):
    row = services.domain_add(membership=owner, domain="acme.test")
    web_server.files["acme.test"] = answer
    with pytest.raises(ValidationFailed, match=message):
        services.domain_verify(membership=owner, domain_id=row.pk, method="file")


def test_a_domain_verified_by_one_organization_cannot_be_claimed_by_another(
    owner, other_org, make_member, dns_server
):
    theirs = make_member(other_org, Role.OWNER)
    mine = services.domain_add(membership=owner, domain="acme.test")
    pending = services.domain_add(membership=theirs, domain="acme.test")  # not verified yet
    dns_server.records.txt["acme.test"] = [
        expected_value(mine.token),
        expected_value(pending.token),
    ]
    services.domain_verify(membership=owner, domain_id=mine.pk, method="dns")
    # Verifying it too: refused by the database's unique index, whatever each one sees.
    with pytest.raises(ValidationFailed, match="verified by another organization"):
        services.domain_verify(membership=theirs, domain_id=pending.pk, method="dns")
    # Adding it anew: refused at once.
    with pytest.raises(ValidationFailed, match="verified by another organization"):
        services.domain_add(membership=make_member(other_org, Role.OWNER), domain="ACME.test")


def test_only_owners_manage_domains(org, make_member):
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(NotPermitted):
        services.domain_add(membership=admin, domain="acme.test")


def test_a_bad_domain_is_refused_and_nothing_is_stored(owner):
    with pytest.raises(ValidationFailed, match="not a domain name"):
        services.domain_add(membership=owner, domain="not a domain")
    assert not SsoDomain.objects.for_org(owner.organization).exists()
