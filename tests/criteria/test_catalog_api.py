"""Read-only catalog API: content, filters, errors and constant query counts."""

from __future__ import annotations

import pytest

API = "/api/v1/catalog"


@pytest.fixture
def api(catalog, manager, client_for):
    return client_for(manager)


def test_anonymous_gets_a_json_error(client, catalog):
    response = client.get(f"{API}/criteria/")
    # 401 with a challenge naming the scheme an integration should use.
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_criteria_list_and_filters(api):
    data = api.get(f"{API}/criteria/", {"page_size": 100}).json()
    assert data["count"] == 61 and len(data["results"]) == 61
    first = data["results"][0]
    assert (
        first["ref"] == "CC1.1" and first["category"] == "security" and first["coso_principle"] == 1
    )
    assert len(first["points_of_focus"]) >= 2 and first["crosswalk"] and first["templates"]
    privacy = api.get(f"{API}/criteria/", {"category": "privacy"}).json()
    assert privacy["count"] == 18
    assert api.get(f"{API}/criteria/", {"series": "CC6"}).json()["count"] == 8
    assert [c["ref"] for c in api.get(f"{API}/criteria/", {"q": "vendor"}).json()["results"]]


def test_criterion_detail_with_crosswalk(api):
    data = api.get(f"{API}/criteria/CC6.1/").json()
    assert data["ref"] == "CC6.1"
    frameworks = {x["framework"] for x in data["crosswalk"]}
    assert frameworks == {"iso27001-2022", "nist-csf-2.0"}
    missing = api.get(f"{API}/criteria/CC99.1/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize("page_size", [5, 60])
def test_criteria_list_queries_do_not_grow_with_page_size(
    api, page_size, django_assert_num_queries
):
    api.get(f"{API}/criteria/")
    # session, user, framework, count, page, points of focus, crosswalk, templates
    with django_assert_num_queries(8):
        response = api.get(f"{API}/criteria/", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 100])
def test_template_list_queries_do_not_grow_with_page_size(
    api, page_size, django_assert_num_queries
):
    api.get(f"{API}/templates/")
    # session, user, count, page, criteria
    with django_assert_num_queries(5):
        response = api.get(f"{API}/templates/", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_template_filters(api):
    data = api.get(f"{API}/templates/", {"criterion": "CC6.1", "type": "technical"}).json()
    assert data["count"] > 0
    assert all("CC6.1" in t["criteria"] and t["type"] == "technical" for t in data["results"])
    assert api.get(f"{API}/templates/GOV-01/").json()["frequency"] == "annual"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"type": "magic"}, 400),
        ({"page": "abc"}, 404),
        ({"page": "9999"}, 404),
        ({"page_size": "-3"}, 200),
    ],
)
def test_bad_query_parameters_are_4xx_json(api, params, status):
    response = api.get(f"{API}/templates/", params)
    assert response.status_code == status
    body = response.json()
    if status >= 400:
        assert set(body) >= {"detail", "code"}


def test_frameworks_categories_and_oscal(api):
    frameworks = api.get(f"{API}/frameworks/").json()["results"]
    assert [f["key"] for f in frameworks] == ["aicpa-tsc-2017"]
    categories = api.get(f"{API}/frameworks/aicpa-tsc-2017/categories/").json()
    assert [c["key"] for c in categories][0] == "security" and len(categories) == 5
    oscal = api.get(f"{API}/frameworks/aicpa-tsc-2017/oscal/").json()
    assert len(oscal["catalog"]["groups"]) == 5


def test_write_methods_are_refused(api):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api, method)(
            f"{API}/criteria/CC1.1/", data={}, content_type="application/json"
        )
        assert response.status_code in (403, 405), method


def test_schema_and_docs_are_served(api, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/catalog/criteria/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content  # assets are served locally
