"""SCIM Users as Okta and Entra ID use them: create, read, filter, page, PUT, PATCH, DELETE,
and every refusal in the SCIM error schema (never a 500)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from scim.models import ScimLink
from tenants.models import ActivityEntry, Membership, Role
from tests.factories import MembershipFactory, UserFactory
from tests.scim.conftest import USER, entra_user, okta_user

pytestmark = pytest.mark.django_db
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/scim+json"
    body = response.json_body
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return body


def test_okta_create_matches_by_filter_then_reads_back(org, scim):
    assert scim.get("Users", filter='userName eq "ada@example.com"').json_body["totalResults"] == 0
    created = scim.post("Users", okta_user("Ada@Example.com"))
    assert created.status_code == 201
    body = created.json_body
    assert body["userName"] == "ada@example.com" and body["active"] is True
    assert body["name"]["givenName"] == "Ada" and body["externalId"] == "00u1abcd"
    assert body["roles"][0]["value"] == Role.CONTRIBUTOR
    assert created["Location"].endswith(f"/scim/v2/{org.slug}/Users/{body['id']}")
    member = Membership.objects.for_org(org).get(pk=body["id"])
    assert member.role == Role.CONTRIBUTOR and not member.user.has_usable_password()
    found = scim.get("Users", filter='userName eq "ADA@example.com"').json_body
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == body["id"]
    assert scim.get(f"Users/{body['id']}").json_body == body
    entry = ActivityEntry.objects.for_org(org).get(
        action="create", object_type="tenants.membership"
    )
    assert entry.actor_label == "SCIM (okta)"


def test_entra_create_and_its_patch_shapes(org, scim):
    body = scim.post("Users", entra_user("grace@example.com")).json_body
    uid = body["id"]
    assert body["externalId"] == "f2d1-entra"
    # Entra: capitalised ops, booleans as strings, filtered value paths, dotted keys.
    response = scim.patch(
        f"Users/{uid}",
        {"op": "Replace", "path": "name.givenName", "value": "Amazing Grace"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "grace@example.com"},
        {"op": "Replace", "value": {"name.familyName": "Murray Hopper", "externalId": "new-ext"}},
    )
    assert response.status_code == 200, response.content
    assert response.json_body["name"]["givenName"] == "Amazing Grace"
    assert response.json_body["name"]["familyName"] == "Murray Hopper"
    assert response.json_body["externalId"] == "new-ext"
    off = scim.patch(f"Users/{uid}", {"op": "Replace", "path": "active", "value": "False"})
    assert off.json_body["active"] is False
    on = scim.patch(f"Users/{uid}", {"op": "Replace", "path": "active", "value": "True"})
    assert on.json_body["active"] is True
    assert scim.get("Users", filter='externalId eq "new-ext"').json_body["totalResults"] == 1


def test_okta_put_and_pathless_patch(org, scim):
    uid = scim.post("Users", okta_user("ada@example.com")).json_body["id"]
    put = scim.put(f"Users/{uid}", okta_user("ada.l@example.com", given="Augusta"))
    assert put.status_code == 200, put.content
    assert put.json_body["userName"] == "ada.l@example.com"
    assert put.json_body["name"]["givenName"] == "Augusta"
    assert get_user_model().objects.filter(email="ada.l@example.com").count() == 1
    off = scim.patch(f"Users/{uid}", {"op": "replace", "value": {"active": False}})
    assert off.status_code == 200 and off.json_body["active"] is False
    assert scim.get("Users", filter="active eq false").json_body["totalResults"] == 1


def test_delete_deactivates_and_get_still_answers(org, scim):
    uid = scim.post("Users", okta_user("ada@example.com")).json_body["id"]
    assert scim.delete(f"Users/{uid}").status_code == 204
    assert scim.get(f"Users/{uid}").json_body["active"] is False
    assert scim.delete(f"Users/{uid}").status_code == 204  # idempotent


def test_existing_account_is_matched_not_duplicated(org, other_org, scim):
    elsewhere = MembershipFactory(organization=other_org, user__email="bob@example.com")
    body = scim.post("Users", okta_user("bob@example.com", given="Robert")).json_body
    member = Membership.objects.for_org(org).get(pk=body["id"])
    assert member.user_id == elsewhere.user_id
    # The account is also another organization's member: this IdP does not rename it...
    assert member.user.first_name == ""
    # ...nor change its address.
    _error(scim.put(f"Users/{body['id']}", okta_user("rob@example.com")), 400, "mutability")


def test_duplicate_username_is_409(org, scim, manager):
    scim.post("Users", okta_user("ada@example.com"))
    _error(scim.post("Users", okta_user("ada@example.com")), 409, "uniqueness")
    _error(scim.post("Users", okta_user(manager.user.email)), 409, "uniqueness")
    other = scim.post("Users", okta_user("eve@example.com")).json_body["id"]
    _error(scim.put(f"Users/{other}", okta_user("ada@example.com")), 409, "uniqueness")
    UserFactory(email="taken@example.com")
    _error(scim.put(f"Users/{other}", okta_user("taken@example.com")), 409, "uniqueness")


def test_pagination(org, scim):
    for n in range(5):
        scim.post("Users", okta_user(f"u{n}@example.com", externalId=f"x{n}"))
    everyone = scim.get("Users").json_body
    assert everyone["totalResults"] == 6  # five and the owner
    page = scim.get("Users", startIndex="2", count="2").json_body
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["id"] for r in page["Resources"]] == [r["id"] for r in everyone["Resources"][1:3]]
    assert scim.get("Users", count="0").json_body["Resources"] == []
    assert scim.get("Users", startIndex="0", count="1").json_body["startIndex"] == 1
    assert scim.get("Users", startIndex="99").json_body["Resources"] == []
    _error(scim.get("Users", count="many"), 400, "invalidValue")
    far = scim.get("Users", startIndex="1" + "0" * 30).json_body
    assert far["Resources"] == [] and far["totalResults"] == 6
    assert scim.get("Users", filter='id eq "' + "9" * 30 + '"').json_body["totalResults"] == 0
    _error(scim.get("Users/" + "9" * 30), 404)
    _error(scim.get("Users/²"), 404)


def test_auditors_are_not_scim_users(org, scim):
    auditor = MembershipFactory(organization=org, role=Role.AUDITOR)
    _error(scim.get(f"Users/{auditor.pk}"), 404)
    assert scim.get("Users").json_body["totalResults"] == 1


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [USER]}, "invalidValue"),  # no userName
        ({"schemas": [USER], "userName": "not-an-address"}, "invalidValue"),
        ({"schemas": [USER], "userName": "a@example.com", "shoeSize": 44}, "invalidValue"),
        ({"schemas": ["urn:example:custom"], "userName": "a@example.com"}, "invalidValue"),
        ({"schemas": [USER], "userName": "a@example.com", "active": "maybe"}, "invalidValue"),
        ({"schemas": [USER], "userName": "a@example.com", "name": "Ada"}, "invalidValue"),
        ({"schemas": [USER], "userName": 7}, "invalidValue"),
        (
            {"schemas": [USER], "userName": "a@example.com", "roles": [{"value": "owner"}]},
            "invalidValue",
        ),
        ({"schemas": [USER], "userName": "a@example.com", "roles": "admin"}, "invalidValue"),
    ],
)
def test_bad_create_bodies(org, scim, body, scim_type):
    _error(scim.post("Users", body), 400, scim_type)
    assert not get_user_model().objects.filter(email="a@example.com").exists()


def test_bad_json_and_bad_patches(org, scim):
    _error(scim.post("Users", raw=b"{not json"), 400, "invalidSyntax")
    _error(scim.post("Users", raw=b"[1, 2]"), 400, "invalidSyntax")
    uid = scim.post("Users", okta_user("ada@example.com")).json_body["id"]
    _error(scim.patch(f"Users/{uid}", raw=b"{"), 400, "invalidSyntax")
    _error(scim.patch(f"Users/{uid}", {"op": "explode", "path": "active"}), 400, "invalidSyntax")
    _error(
        scim.patch(f"Users/{uid}", {"op": "replace", "path": "shoe.size", "value": 1}),
        400,
        "invalidPath",
    )
    _error(scim.patch(f"Users/{uid}", {"op": "remove", "path": "userName"}), 400, "mutability")
    _error(scim.patch(f"Users/{uid}", {"op": "replace", "value": "x"}), 400, "invalidValue")
    bad = {"schemas": ["nope"], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    _error(scim.call("PATCH", f"Users/{uid}", bad), 400, "invalidSyntax")
    assert scim.get(f"Users/{uid}").json_body["active"] is True


@pytest.mark.parametrize(
    "text",
    [
        'userName sw "a"',
        "userName eq",
        'shoeSize eq "44"',
        'userName eq "a" and',
        "((",
        'active eq "yes"',
        "",
    ],
)
def test_bad_filters(org, scim, text):
    _error(scim.get("Users", filter=text), 400, "invalidFilter")


def test_filter_and_clauses(org, scim):
    scim.post("Users", okta_user("ada@example.com", externalId="e1"))
    both = 'userName eq "ada@example.com" and externalId eq "e1"'
    assert scim.get("Users", filter=both).json_body["totalResults"] == 1
    wrong = 'userName eq "ada@example.com" and externalId eq "e2"'
    assert scim.get("Users", filter=wrong).json_body["totalResults"] == 0
    by_mail = 'emails[type eq "work"].value eq "ada@example.com"'
    assert scim.get("Users", filter=by_mail).json_body["totalResults"] == 1


def test_role_escalation_is_refused(org, scim, owner):
    uid = scim.post("Users", okta_user("ada@example.com")).json_body["id"]
    for role in ("owner", "admin", "auditor"):
        _error(
            scim.patch(
                f"Users/{uid}", {"op": "replace", "path": "roles", "value": [{"value": role}]}
            ),
            400,
            "invalidValue",
        )
        _error(
            scim.put(f"Users/{uid}", okta_user("ada@example.com", roles=[{"value": role}])),
            400,
            "invalidValue",
        )
    assert Membership.objects.for_org(org).get(pk=uid).role == Role.CONTRIBUTOR
    # Between the two provisioned roles, it moves; an owner's role never moves.
    up = scim.patch(
        f"Users/{uid}",
        {"op": "replace", "path": "roles", "value": [{"value": "compliance_manager"}]},
    )
    assert up.json_body["roles"][0]["value"] == Role.COMPLIANCE_MANAGER
    demote = {"op": "replace", "path": 'roles[primary eq "True"].value', "value": "contributor"}
    _error(scim.patch(f"Users/{owner.pk}", demote), 400, "mutability")
    assert Membership.objects.for_org(org).get(pk=owner.pk).role == Role.OWNER
    # An IdP echoing an owner's role back (GET, then PUT of the same) changes nothing.
    echoed = okta_user(owner.user.email, roles=[{"value": "owner", "primary": True}])
    assert scim.put(f"Users/{owner.pk}", echoed).status_code == 200
    _error(
        scim.post("Users", okta_user("x@example.com", roles=[{"value": "sultan"}])),
        400,
        "invalidValue",
    )


def test_default_role_from_settings(org, owner, scim):
    from scim.services import provisioning_settings_update

    provisioning_settings_update(
        membership=owner, default_role="compliance_manager", manage_personnel=False
    )
    body = scim.post("Users", okta_user("ada@example.com")).json_body
    assert body["roles"][0]["value"] == Role.COMPLIANCE_MANAGER


def test_discovery_documents(org, scim):
    config = scim.get("ServiceProviderConfig").json_body
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    types = scim.get("ResourceTypes").json_body
    assert types["Resources"][0]["endpoint"] == "/Users"
    assert scim.get("ResourceTypes/User").json_body["schema"] == USER
    assert scim.get(f"Schemas/{USER}").json_body["name"] == "User"
    assert len(scim.get("Schemas").json_body["Resources"]) == 2
    _error(scim.get("ResourceTypes/Group"), 404)
    _error(scim.get("Schemas/urn:nope"), 404)
    _error(scim.call("DELETE", "ServiceProviderConfig"), 405)
    _error(scim.get("Users/abc"), 404)
    _error(scim.get("Groups", filter='displayName eq "x"'), 404)
    _error(scim.post("Bulk", {}), 404)
    assert scim.get("Users/").status_code == 200


def test_link_kept_once(org, scim):
    uid = scim.post("Users", okta_user("ada@example.com")).json_body["id"]
    scim.patch(f"Users/{uid}", {"op": "replace", "path": "externalId", "value": "z"})
    assert ScimLink.objects.for_org(org).filter(membership_id=uid).count() == 1
    scim.patch(f"Users/{uid}", {"op": "remove", "path": "externalId"})
    assert "externalId" not in scim.get(f"Users/{uid}").json_body


def test_list_query_count_is_constant(org, scim, django_assert_num_queries):
    scim.post("Users", okta_user("first@example.com"))
    scim.get("Users")  # the token's last use is recorded once a minute: not in the counts

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert scim.get("Users").status_code == 200
        return len(queries)

    few = count()
    for n in range(12):
        scim.post("Users", okta_user(f"u{n}@example.com", externalId=f"x{n}"))
    # organization, token, count, page (users and SCIM links joined) and, on PostgreSQL,
    # setting the current organization: the same for 2 and 14 users.
    assert count() == few
    with django_assert_num_queries(few):
        assert len(scim.get("Users").json_body["Resources"]) == 14
