"""The API of an audit's people and policies: the portal's reads as JSON for auditors on their
granted audits and for the roster's managers (and their keys); nobody else, nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import AuditorAccess
from reports.services import auditor_access_revoke
from tenants.models import ActivityEntry, Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.reports.portal_people_world import (
    CERTIFICATE,
    accept,
    complete,
    leaver_sample,
    offboarding,
    person,
)
from tests.reports.portal_world import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

ENDPOINTS = (
    "policy-versions",
    "policy-acceptances",
    "training-requirements",
    "training-completions",
    "sampled-checklists",
)


def _api(w, tail: str, audit=None) -> str:
    return f"/api/v1/orgs/{w.org.slug}/audits/{(audit or w.audit).pk}/{tail}"


def _leaver(w, name: str):
    return person(w.org, name, end_date=dt.date(2025, 5, 1))


def test_auditors_read_the_same_records_as_the_portal(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    versions = client.get(_api(w, "policy-versions/")).json()["results"]
    assert [(v["id"], v["sha256"], v["acceptance_count"]) for v in versions] == [
        (w.policy_v1.pk, w.policy_v1.sha256, 2)
    ]
    detail = client.get(_api(w, f"policy-versions/{w.policy_v1.pk}/")).json()
    assert detail["body"] == w.policy_v1.body
    assert client.get(_api(w, f"policy-versions/{w.policy_v2.pk}/")).status_code == 404

    rows = client.get(_api(w, f"policy-acceptances/?version={w.policy_v1.pk}")).json()
    by_id = {row["id"]: row for row in rows["results"]}
    assert set(by_id) == {w.acceptance.pk, w.anonymised_acceptance.pk}
    ada = by_id[w.acceptance.pk]
    assert ada["person"]["full_name"] == "Ada Lovelace" and ada["ip_address"] == "203.0.113.7"
    assert ada["consent"] == w.acceptance.consent and ada["user_agent"]
    gone = by_id[w.anonymised_acceptance.pk]
    assert gone["person"] == {"id": w.gone.pk, "full_name": "", "email": "", "anonymised": True}
    assert gone["text_sha256"] == w.anonymised_acceptance.text_sha256
    bad = client.get(_api(w, f"policy-acceptances/?version={w.policy_v2.pk}"))
    assert bad.status_code == 404 and bad.json()["code"] == "not_found"

    (req,) = client.get(_api(w, "training-requirements/")).json()["results"]
    assert req["id"] == w.requirement.pk and req["completion_count"] == 1
    (done,) = client.get(_api(w, f"training-completions/?requirement={req['id']}")).json()[
        "results"
    ]
    assert done["has_certificate"] and done["certificate_sha256"] == w.completion.certificate_sha256
    file = client.get(_api(w, f"training-completions/{w.completion.pk}/certificate/"))
    assert file.status_code == 200 and b"".join(file.streaming_content) == CERTIFICATE
    assert ActivityEntry.objects.for_org(w.org).filter(action="download").count() == 1
    cert = _api(w, f"training-completions/{w.completion.pk}/certificate/")
    assert client.head(cert).status_code == 200  # a HEAD reads nothing: not logged
    assert client.get(cert, HTTP_ACCEPT="application/pdf").status_code == 200
    assert ActivityEntry.objects.for_org(w.org).filter(action="download").count() == 2
    later = _api(w, f"training-completions/{w.later_completion.pk}/certificate/")
    assert client.get(later).status_code == 404


def test_sampled_checklists_name_only_the_sampled(world, api_for):  # noqa: F811
    w = world
    sampled, other = _leaver(w, "Sam Sampled"), _leaver(w, "Nora Notsampled")
    offboarding(sampled, [("Revoke accounts", 1, 4)])
    offboarding(other, [("Secret", 1, 1)])
    sample = leaver_sample(w.audit, w.control, [sampled])
    response = api_for(w.auditor).get(_api(w, "sampled-checklists/"))
    (row,) = response.json()["results"]
    assert row["sample"] == sample.pk and row["population_item"] == f"PER-{sampled.pk}"
    assert row["kind"] == "offboarding" and row["person"]["full_name"] == "Sam Sampled"
    (item,) = row["checklist"]["items"]
    assert item["title"] == "Revoke accounts" and item["late"] is True
    assert "Nora" not in response.content.decode() and "Secret" not in response.content.decode()


def test_roles_grants_and_tenants(world, api_for, key_client, make_member, outsider):  # noqa: F811
    w = world
    contributor = api_for(make_member(w.org, Role.CONTRIBUTOR))
    manager = api_for(w.manager)
    for name in ENDPOINTS:
        assert manager.get(_api(w, f"{name}/")).status_code == 200, name
        assert manager.get(_api(w, f"{name}/", w.other_audit)).status_code == 200, name
        assert key_client(w.org).get(_api(w, f"{name}/")).status_code == 200, name
        assert contributor.get(_api(w, f"{name}/")).status_code == 403, name
        assert key_client(w.org, "read_only").get(_api(w, f"{name}/")).status_code == 403
        assert api_for(outsider).get(_api(w, f"{name}/")).status_code == 404, name
        assert key_client(outsider.organization).get(_api(w, f"{name}/")).status_code == 404
        auditor = api_for(w.auditor)
        assert auditor.get(_api(w, f"{name}/", w.other_audit)).status_code == 404, name
        assert auditor.post(_api(w, f"{name}/"), {}).status_code == 405, name
    auditor_access_revoke(
        membership=w.manager, access=AuditorAccess.objects.for_org(w.org).get(audit=w.audit)
    )
    for name in ENDPOINTS:
        assert api_for(w.auditor).get(_api(w, f"{name}/")).status_code == 404, name


def test_list_queries_do_not_grow(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)

    def grow(n: int, tag: str) -> None:
        leavers = [_leaver(w, f"{tag}{i} Leaver") for i in range(n)]
        for who in leavers:
            accept(w.policy_v1, who, dt.date(2025, 3, 1))
            complete(w.requirement, who, dt.date(2025, 3, 2))
            offboarding(who, [("Revoke", 1, 2), ("Laptop", 3, None)])
        leaver_sample(w.audit, w.control, leavers)

    def counts() -> list[int]:
        found = []
        for name in ENDPOINTS:
            client.get(_api(w, f"{name}/"))
            with CaptureQueriesContext(connection) as captured:
                assert client.get(_api(w, f"{name}/")).status_code == 200
            found.append(len(captured))
        return found

    grow(5, "s")
    small = counts()
    grow(45, "l")
    assert counts() == small
