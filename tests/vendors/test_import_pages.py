"""The vendor import pages and API: upload, preview, confirm (the preview held server-side, for
this user in this organization only), the template, roles, isolation, and query counts."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tenants.models import Role
from tests.vendors.conftest import make_vendor
from vendors import imports
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

GOOD = b"name,service,criticality\nCloudy,Hosting,high\nPaper Ltd,Office,low\n"
BAD = b"name,service,criticality\nCloudy,Hosting,high\nPaper Ltd,Office,lowish\n"


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def upload(client, org, data: bytes, name: str = "vendors.csv"):
    return client.post(url("vendor_import", org), {"file": SimpleUploadedFile(name, data)})


def held(page) -> dict[str, str]:
    html = page.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', html).group(1)
    return {"token": token, "sha256": sha}


def test_upload_preview_then_confirm(org, manager, client_for):
    client = client_for(manager)
    assert b"Import vendors" in client.get(url("vendors", org)).content
    make_vendor(manager, "Cloudy", criticality="low")
    page = upload(client, org, GOOD)
    html = page.content.decode()
    assert page.status_code == 200 and html.count('class="import-row"') == 2
    assert "New" in html and "Update" in html and "criticality: low → high" in html
    assert Vendor.objects.for_org(org).count() == 1  # a preview writes nothing
    form = held(page)
    bad = client.post(url("vendor_import_confirm", org), {**form, "sha256": "0" * 64})
    assert bad.status_code == 302 and Vendor.objects.for_org(org).count() == 1
    done = client.post(url("vendor_import_confirm", org), form)
    assert done.status_code == 302 and done.url == url("vendors", org)
    assert sorted(Vendor.objects.for_org(org).values_list("name", "criticality")) == [
        ("Cloudy", "high"),
        ("Paper Ltd", "low"),
    ]
    again = client.post(url("vendor_import_confirm", org), form)  # the token is spent
    assert again.status_code == 302 and again.url == url("vendor_import", org)


def test_a_bad_file_lists_every_problem_and_offers_no_import(org, manager, client_for):
    client = client_for(manager)
    page = upload(client, org, BAD)
    html = page.content.decode()
    assert page.status_code == 400 and html.count('class="import-error"') == 1
    assert "low, medium, high or critical" in html and 'name="token"' not in html
    for data in (b"", b"\x00\x01binary", "name\n\xe9\n".encode("latin-1")):
        assert upload(client, org, data).status_code == 400
    assert not Vendor.objects.for_org(org).exists()


def test_a_preview_names_nothing_for_another_user_or_organization(
    org, other_org, manager, make_member, client_for
):
    form = held(upload(client_for(manager), org, GOOD))
    colleague = make_member(org, Role.ADMIN)
    client_for(colleague).post(url("vendor_import_confirm", org), form)
    theirs = make_member(other_org)
    client_for(theirs).post(url("vendor_import_confirm", other_org), form)
    assert (
        not Vendor.objects.for_org(org).exists() and not Vendor.objects.for_org(other_org).exists()
    )


def test_the_template_is_a_valid_import(org, manager, client_for):
    client = client_for(manager)
    response = client.get(url("vendor_import_template", org))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    data = b"".join(response)
    assert data.startswith(b"name,service,website,owner,")
    assert imports.plan_import(manager, data).ok


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_who_else_may_not_import(org, manager, make_member, client_for, role):
    client = client_for(make_member(org, role))
    form = held(upload(client_for(manager), org, GOOD))
    for response in (
        client.get(url("vendor_import", org)),
        upload(client, org, GOOD),
        client.post(url("vendor_import_confirm", org), form),
        client.get(url("vendor_import_template", org)),
    ):
        # Auditors are sent to their portal; contributors are refused.
        redirected = response.status_code == 302 and "/portal/" in response.url
        assert response.status_code in (403, 404) or redirected
    assert not Vendor.objects.for_org(org).exists()


def test_another_organization_s_import_pages_are_not_found(org, other_org, manager, client_for):
    client = client_for(manager)
    for name in ("vendor_import", "vendor_import_template"):
        assert client.get(url(name, other_org)).status_code == 404
    assert upload(client, other_org, GOOD).status_code == 404


def test_the_preview_page_runs_in_a_constant_number_of_queries(
    org, manager, client_for, django_assert_max_num_queries
):
    client = client_for(manager)
    rows = "".join(f"Vendor {i},Hosting,high\n" for i in range(300))
    with django_assert_max_num_queries(14):
        page = upload(client, org, f"name,service,criticality\n{rows}".encode())
    assert page.status_code == 200 and page.content.decode().count('class="import-row"') == 300


# --- API ----------------------------------------------------------------------------------


def base(org) -> str:
    return f"/api/v1/orgs/{org.slug}/vendors/"


def api_import(client, org, data: bytes, **extra):
    return client.post(
        f"{base(org)}import/",
        {"file": SimpleUploadedFile("v.csv", data, "text/csv"), **extra},
        format="multipart",
    )


def test_api_dry_run_lists_rows_and_errors_and_apply_is_all_or_nothing(org, manager, key_client):
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    make_vendor(manager, "Cloudy", criticality="low")
    dry = api_import(client, org, BAD, dry_run="true")
    assert dry.status_code == 200 and dry.json()["ok"] is False
    assert dry.json()["errors"] == [
        {"row": 3, "column": "criticality", "message": "Choose low, medium, high or critical."}
    ]
    refused = api_import(client, org, BAD)
    assert refused.status_code == 400 and refused.json()["code"] == "import_rejected"
    assert refused.json()["errors"]["rows"] == dry.json()["errors"]
    preview = api_import(client, org, GOOD, dry_run="true").json()
    cloudy = Vendor.objects.for_org(org).get()
    assert preview["rows"] == [
        {
            "row": 2,
            "name": "Cloudy",
            "result": "update",
            "vendor": cloudy.pk,
            "changed": ["service", "criticality"],
        },
        {"row": 3, "name": "Paper Ltd", "result": "new", "vendor": None, "changed": []},
    ]
    assert Vendor.objects.for_org(org).count() == 1
    done = api_import(client, org, GOOD)
    assert done.status_code == 200 and (done.json()["created"], done.json()["updated"]) == (1, 1)
    assert Vendor.objects.for_org(org).count() == 2
    assert api_import(client, org, b"not,a\x00csv").status_code == 400
    assert client.post(f"{base(org)}import/", {"file": "x"}, format="json").status_code == 400


@pytest.mark.parametrize("role", ["read_only", Role.CONTRIBUTOR, Role.AUDITOR])
def test_api_keys_without_vendor_rights_cannot_import(org, key_client, role):
    response = api_import(key_client(org, role), org, GOOD)
    assert response.status_code in (403, 404)
    assert not Vendor.objects.for_org(org).exists()


def test_api_isolation_and_unknown_owners_of_another_org(org, other_org, make_member, key_client):
    stranger = make_member(other_org)
    client = key_client(org, Role.ADMIN)
    assert api_import(client, other_org, GOOD).status_code == 404
    data = f"name,owner\nCloudy,{stranger.user.email}\n".encode()
    refused = api_import(client, org, data)
    assert refused.status_code == 400 and refused.json()["errors"]["rows"][0]["column"] == "owner"
    assert not Vendor.objects.for_org(other_org).exists()
