"""The policy pages: list, library, a policy, editing with a preview, approval by the named
approver; read-only for contributors, 404 across organizations."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies import services
from policies.library import library_entries
from policies.models import Policy, PolicyVersion, VersionState
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_the_shipped_library_has_sixteen_policies_mapped_to_criteria():
    entries = library_entries()
    assert len(entries) == 16 and len({e.key for e in entries}) == 16
    assert all(e.criteria and e.controls and len(e.body) > 2000 for e in entries)


def test_a_manager_adopts_edits_and_the_approver_approves_in_the_browser(
    org, manager, approver, library, client_for
):
    client = client_for(manager)
    page = client.get(url("policy_library", org)).content.decode()
    assert "Access Control Policy" in page and "Adopt" in page
    response = client.post(url("policy_adopt", org, key="access-control"))
    policy = Policy.objects.for_org(org).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/policies/{policy.pk}/")
    client.post(
        url("policy_settings", org, pk=policy.pk),
        {"owner": manager.pk, "approver": approver.pk, "review_cadence_months": 12},
    )
    edited = client.post(
        url("policy_edit", org, pk=policy.pk),
        {"body": "# Access\n\n{{ organization_name }} reviews access.\n", "change_note": "Short"},
    )
    assert edited.status_code == 302
    client.post(url("policy_submit", org, pk=policy.pk))
    # The manager cannot approve; the approver sees the buttons and approves.
    client.post(url("policy_approve", org, pk=policy.pk))
    assert PolicyVersion.objects.for_org(org).get().state == VersionState.IN_REVIEW
    approver_page = client_for(approver).get(url("policy_detail", org, pk=policy.pk))
    assert "Approve v1" in approver_page.content.decode()
    client_for(approver).post(url("policy_approve", org, pk=policy.pk))
    version = PolicyVersion.objects.for_org(org).get()
    assert version.state == VersionState.APPROVED
    page = client.get(url("policy_detail", org, pk=policy.pk)).content.decode()
    assert f"{org.name} reviews access." in page and version.sha256 in page


def test_the_preview_shows_html_as_text(org, manager, client_for):
    response = client_for(manager).post(
        url("policy_preview", org),
        {"body": "**{{ organization_name }}** <script>alert(1)</script> [x](javascript:alert(1))"},
    )
    html = response.content.decode()
    assert f"<strong>{org.name}</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_contributors_read_approved_policies_but_not_drafts_and_change_nothing(
    org, manager, approver, adopted, contributor, client_for
):
    client = client_for(contributor)
    assert client.get(url("policies", org)).status_code == 200
    # Never approved: the draft's text is not shown to them, nor its version page.
    page = client.get(url("policy_detail", org, pk=adopted.pk)).content.decode()
    assert "least privilege" not in page and "Edit the draft" not in page
    assert client.get(url("policy_version", org, pk=adopted.pk, number=1)).status_code == 404
    assert client.get(url("policy_library", org)).status_code == 403
    assert client.post(url("policy_adopt", org, key="access-control")).status_code == 403
    client.post(url("policy_submit", org, pk=adopted.pk))
    assert PolicyVersion.objects.for_org(org).get().state == VersionState.DRAFT
    approve(manager, approver, adopted)
    page = client.get(url("policy_detail", org, pk=adopted.pk)).content.decode()
    assert "least privilege" in page


def test_another_organization_s_policy_is_not_found(org, adopted, outsider, client_for):
    client = client_for(outsider)
    other = outsider.organization.slug
    for name in ("policy_detail", "policy_edit", "policy_settings"):
        path = reverse(name, kwargs={"org_slug": other, "pk": adopted.pk})
        assert client.get(path).status_code in (404, 405)
    for name in ("policy_submit", "policy_approve", "policy_delete", "policy_version_start"):
        path = reverse(name, kwargs={"org_slug": other, "pk": adopted.pk})
        assert client.post(path).status_code == 404
    assert client.get(f"/o/{org.slug}/policies/{adopted.pk}/").status_code == 404


def test_bad_input_is_refused_with_a_message(org, manager, adopted, client_for):
    client = client_for(manager)
    response = client.post(url("policy_edit", org, pk=adopted.pk), {"body": ""})
    assert response.status_code == 400
    response = client.post(
        url("policy_settings", org, pk=adopted.pk),
        {"owner": "999999", "approver": "x", "review_cadence_months": "0"},
        follow=True,
    )
    assert response.status_code == 200 and b"Review every" in response.content


def test_the_list_renders_in_constant_queries(org, manager, approver, library, client_for):
    client = client_for(manager)
    services.policy_adopt(membership=manager, key="access-control")
    client.get(url("policies", org))
    with CaptureQueriesContext(db_connection) as few:
        client.get(url("policies", org))
    for i in range(5):
        services.policy_create(membership=manager, title=f"Policy {i}", body="# Text\n")
    with CaptureQueriesContext(db_connection) as many:
        assert client.get(url("policies", org)).status_code == 200
    assert len(many) == len(few)
