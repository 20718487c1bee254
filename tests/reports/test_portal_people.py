"""People and policies in the auditor portal: a granted auditor reads the approved policy
versions of the audit's period, their acceptance records (anonymised people stay anonymised,
their hashes kept), the training records with certificates, and the checklists of the sampled
joiners and leavers only; nobody else is served these pages. (The other audit, a revoked or
expired grant, an outsider and every POST are covered for these URLs too by the matrix in
``test_portal.py``, through ``portal_world._portal_urls``.)"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.populations import JOINERS
from policies.models import Policy
from tenants.models import ActivityEntry, Role
from tests.reports.portal_people_world import (
    CERTIFICATE,
    accept,
    approved_version,
    checklist,
    complete,
    leaver_sample,
    offboarding,
    people_urls,
    person,
    roster_sample,
)
from tests.reports.portal_world import world  # noqa: F401 (fixture)
from training.models import TrainingRequirement

pytestmark = pytest.mark.django_db


def _url(w, name: str, audit=None, **kwargs) -> str:
    audit_pk = (audit or w.audit).pk
    return reverse(name, kwargs={"org_slug": w.org.slug, "audit_pk": audit_pk, **kwargs})


def _leavers(w, count: int, prefix: str = "Leaver"):
    return [
        person(
            w.org,
            f"{prefix}{i} Person",
            start_date=dt.date(2024, 1, 1),
            end_date=dt.date(2025, 5, 1) + dt.timedelta(days=i % 20),
        )
        for i in range(count)
    ]


def test_the_audit_page_links_the_section_for_auditors_and_roster_managers(
    world,  # noqa: F811
    client_for,
    make_member,
):
    w = world
    people = _url(w, "portal_people")
    assert people in client_for(w.auditor).get(_url(w, "portal_audit")).content.decode()
    # A manager previews what the auditor sees; a contributor sees no personal data.
    assert people in client_for(w.manager).get(_url(w, "portal_audit")).content.decode()
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    assert people not in client_for(contributor).get(_url(w, "portal_audit")).content.decode()


def test_policies_approved_by_the_period_end_are_readable(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_people")).content.decode()
    assert w.policy_v1.sha256 in page and "approver@example.com" in page
    assert _url(w, "portal_policy_version", pk=w.policy_v1.pk) in page
    # v2 was approved after the Type 1 audit's as-of date; v3 is a draft.
    assert _url(w, "portal_policy_version", pk=w.policy_v2.pk) not in page
    assert "Security awareness" in page

    version = client.get(_url(w, "portal_policy_version", pk=w.policy_v1.pk))
    text = version.content.decode()
    assert version.status_code == 200 and w.policy_v1.sha256 in text
    assert f"{w.org.name} grants least privilege" in text
    assert "<script>x</script>" not in text and "&lt;script&gt;" in text  # no raw HTML
    for hidden in (w.policy_v2, w.policy_draft):
        for name in ("portal_policy_version", "portal_policy_version_pdf"):
            assert client.get(_url(w, name, pk=hidden.pk)).status_code == 404
    pdf = client.get(_url(w, "portal_policy_version_pdf", pk=w.policy_v1.pk))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Disposition"].startswith("attachment")


def test_acceptance_records_show_who_when_how_and_keep_anonymised_hashes(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_acceptances")).content.decode()
    a = w.acceptance
    for shown in ("Ada Lovelace", "ada@example.com", a.text_sha256, a.consent, "203.0.113.7"):
        assert shown in page
    assert "Mozilla/5.0 (Portal test)" in page and "Personal link" in page
    assert "Anonymised person" in page and "Former Person" not in page
    assert w.anonymised_acceptance.text_sha256 in page
    # The acceptance of the version approved after the period is not among them.
    assert "198.51.100.9" not in page and page.count('class="acceptance-row"') == 2

    only = client.get(_url(w, "portal_acceptances") + f"?version={w.policy_v1.pk}")
    assert only.status_code == 200 and only.content.decode().count('class="acceptance-row"') == 2
    for bad in (w.policy_v2.pk, w.policy_draft.pk, "abc", "99999999999999999999", -1):
        response = client.get(_url(w, "portal_acceptances") + f"?version={bad}")
        assert response.status_code == 404, bad


def test_acceptance_csv_is_the_managers_layout_plus_consent_and_is_logged(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    response = client.get(_url(w, "portal_acceptances") + f"?version={w.policy_v1.pk}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "E-mail",
        "Department",
        "Policy",
        "Version",
        "Accepted at",
        "Channel",
        "IP address",
        "Text SHA-256",
        "Consent",
        "User agent",
    ]
    by_hash = {row[8]: row for row in rows[1:]}
    assert len(by_hash) == 2
    ada = by_hash[w.acceptance.text_sha256]
    assert ada[:2] == ["Ada Lovelace", "ada@example.com"] and ada[7] == "203.0.113.7"
    assert ada[9] == w.acceptance.consent and ada[10] == "Mozilla/5.0 (Portal test)"
    assert by_hash[w.anonymised_acceptance.text_sha256][:3] == ["Anonymised person", "", ""]
    entry = ActivityEntry.objects.for_org(w.org).get(action="export")
    assert entry.actor_label == w.auditor.user.email and "Access Control Policy v1" in (
        entry.object_repr
    )


def test_training_records_and_certificate_download(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_training", pk=w.requirement.pk)).content.decode()
    assert "Ada Lovelace" in page and "KnowBe4" in page and "CSV import" in page
    assert w.completion.certificate_sha256 in page
    assert _url(w, "portal_certificate", pk=w.completion.pk) in page
    assert page.count('class="completion-row"') == 1  # not the one after the as-of date

    download = client.get(_url(w, "portal_certificate", pk=w.completion.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == CERTIFICATE
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    entry = ActivityEntry.objects.for_org(w.org).get(action="download")
    assert entry.changes["sha256"] == [None, w.completion.certificate_sha256]
    assert entry.actor_label == w.auditor.user.email

    after = complete(w.requirement, w.ada, dt.date(2025, 10, 1), certificate=b"%PDF-1.4 later")
    for pk in (after.pk, w.later_completion.pk):  # after the period / without a certificate
        assert client.get(_url(w, "portal_certificate", pk=pk)).status_code == 404
    assert ActivityEntry.objects.for_org(w.org).filter(action="download").count() == 1


def test_only_sampled_leavers_checklists_are_shown_with_late_items(world, client_for):  # noqa: F811
    w = world
    sampled, unsampled, without = _leavers(w, 3)
    offboarding(
        sampled, [("Revoke accounts", 1, 3), ("Return laptop", 5, 2), ("Exit talk", 7, None)]
    )
    offboarding(unsampled, [("Secret step", 1, 1)])
    leaver_sample(w.audit, w.control, [sampled, without])
    page = client_for(w.auditor).get(_url(w, "portal_checklists")).content.decode()
    assert sampled.full_name in page and "Revoke accounts noted" in page
    assert "it@example.com" in page
    assert unsampled.full_name not in page and "Secret step" not in page
    assert without.full_name in page and "No offboarding checklist was opened" in page
    # Done 3 days after the end date though due after 1: late; open past its due date: late.
    assert page.count('class="checklist-step late"') == 2
    assert page.count('class="checklist-step"') == 1
    overview = client_for(w.auditor).get(_url(w, "portal_people")).content.decode()
    assert _url(w, "portal_checklists") in overview and "Sample 1 of leavers" in overview


def test_joiners_show_onboarding_and_other_audits_samples_are_not_mixed_in(world, client_for):  # noqa: F811
    w = world
    joiner = person(w.org, "Joan Joiner", start_date=dt.date(2025, 3, 3))
    checklist(joiner, "onboarding", joiner.start_date, [("Sign the NDA", -2, 0)])
    checklist(joiner, "offboarding", dt.date(2025, 6, 1), [("Not this one", 1, 1)])
    roster_sample(w.audit, w.control, [joiner], JOINERS.label)
    other = person(w.org, "Other Leaver", end_date=dt.date(2025, 4, 1))
    offboarding(other, [("Other step", 1, 1)])
    leaver_sample(w.other_audit, w.control, [other])
    page = client_for(w.auditor).get(_url(w, "portal_checklists")).content.decode()
    assert "Joan Joiner" in page and "Onboarding checklist" in page and "Sign the NDA" in page
    assert page.count('class="checklist-step late"') == 1  # done 2 days after its due date
    assert "Not this one" not in page
    assert "Other Leaver" not in page and "Other step" not in page


def test_contributors_are_not_served_and_roster_managers_preview(
    world,  # noqa: F811
    client_for,
    make_member,
):
    w = world
    client = client_for(make_member(w.org, Role.CONTRIBUTOR))
    for url in people_urls(w, w.audit):
        assert client.get(url).status_code == 404, url
    for member in (w.manager, make_member(w.org, Role.ADMIN)):
        client = client_for(member)
        for url in people_urls(w, w.audit):
            assert client.get(url).status_code == 200, (member.role, url)


def test_another_organizations_rows_are_not_found(world, client_for, other_org):  # noqa: F811
    w = world
    foreign_policy = Policy.objects.create(organization=other_org, title="Foreign")
    foreign_version = approved_version(foreign_policy, 1, dt.date(2025, 1, 1))
    foreign_person = person(other_org, "Foreign Person")
    accept(foreign_version, foreign_person, dt.date(2025, 1, 2))
    requirement = TrainingRequirement.objects.create(
        organization=other_org, title="Foreign course", kind="external"
    )
    completion = complete(requirement, foreign_person, dt.date(2025, 1, 3), certificate=b"x")
    client = client_for(w.auditor)
    for url in (
        _url(w, "portal_policy_version", pk=foreign_version.pk),
        _url(w, "portal_policy_version_pdf", pk=foreign_version.pk),
        _url(w, "portal_acceptances") + f"?version={foreign_version.pk}",
        _url(w, "portal_training", pk=requirement.pk),
        _url(w, "portal_certificate", pk=completion.pk),
    ):
        assert client.get(url).status_code == 404, url
    pages = client.get(_url(w, "portal_acceptances")).content.decode()
    pages += client.get(_url(w, "portal_people")).content.decode()
    assert "Foreign" not in pages


def _queries(client, url: str) -> int:
    client.get(url)  # the first request of a session reads more (its membership, MFA state)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def _grow(w, n: int, tag: str) -> None:
    """``n`` more acceptances, completions, sampled leavers with checklists and policies."""
    leavers = _leavers(w, n, prefix=f"{tag}x")
    for i, leaver in enumerate(leavers):
        accept(w.policy_v1, leaver, dt.date(2025, 3, 1))
        complete(w.requirement, leaver, dt.date(2025, 3, 1) + dt.timedelta(days=i % 3))
        offboarding(leaver, [("Revoke", 1, 2), ("Laptop", 3, None)])
        policy = Policy.objects.create(organization=w.org, title=f"Policy {tag} {i}")
        approved_version(policy, 1, dt.date(2025, 1, 1))
    leaver_sample(w.audit, w.control, leavers)


def test_queries_do_not_grow_with_rows(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    urls = [
        _url(w, "portal_people"),
        _url(w, "portal_acceptances"),
        _url(w, "portal_acceptances") + f"?version={w.policy_v1.pk}",
        _url(w, "portal_training", pk=w.requirement.pk),
        _url(w, "portal_checklists"),
    ]
    _grow(w, 5, "s")
    small = [_queries(client, url) for url in urls]
    _grow(w, 45, "l")  # 50 rows of each (pages of 50: the pages are full)
    large = [_queries(client, url) for url in urls]
    assert large == small
    assert max(small) <= 20
