"""The unfiltered controls list runs SQL compiled once per ordering and page
(``tenants.compiled``): it must be the ORM's own query, for whichever organization asks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Window
from django.test.utils import CaptureQueriesContext

from controls.api.views_controls import ControlPage
from controls.models import Control
from soc2app.api.pagination import _WindowedPage
from tenants.compiled import compile_rows, run_rows
from tenants.context import org_scope
from tests.api.conftest import org_url
from tests.factories import ControlFactory, control_map

ORDERINGS = [("code",), ("-title",), ("status", "-due_date"), ("-updated_at",)]


@pytest.fixture
def two_lists(org, other_org):
    mine = [ControlFactory(organization=org, code=f"M-{n}", status="implemented") for n in range(4)]
    theirs = [ControlFactory(organization=other_org, code=f"T-{n}") for n in range(3)]
    control_map(mine[0], "CC6.1", "CC6.2")
    control_map(theirs[0], "CC7.1")
    return mine, theirs


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_the_compiled_page_is_the_orms_query_and_rows(ordering, org, other_org, two_lists):
    page = _WindowedPage(ControlPage(ordering), 1, 3)
    compiled = compile_rows(page)
    assert compiled is not None
    for each in (org, other_org):
        orm = page(each.pk)
        sql, params = orm.query.sql_with_params()
        assert compiled.sql == sql  # the very query the ORM would send
        assert [each.pk] * compiled.parameters == list(params)
        with org_scope(each):
            assert run_rows(compiled, each.pk) == list(orm)
    mine = {row["code"] for row in run_rows(compiled, org.pk)}
    assert mine and all(code.startswith("M-") for code in mine)


def test_a_query_with_any_other_parameter_is_not_compiled(db):
    def filtered(org_id: int):
        return Control.objects.for_org(org_id).filter(status="implemented").values("id")

    class Filtered:  # hashable, as the cache needs
        __call__ = staticmethod(filtered)

    assert compile_rows(Filtered()) is None


def test_model_instances_are_not_compiled(db):
    class Instances:
        def __call__(self, org_id: int):
            return Control.objects.for_org(org_id).annotate(n=Window(Count("*")))

    assert compile_rows(Instances()) is None


def test_the_api_list_pages_and_orders_the_same_with_or_without_filters(api, org, two_lists):
    url = org_url(org, "controls/")
    for ordering in ("code", "-code", "-title", "status"):
        pages = [
            api.get(url, {"page_size": 3, "page": n, "ordering": ordering}).json() for n in (1, 2)
        ]
        codes = [c["code"] for p in pages for c in p["results"]]
        # The same list through the ORM: a filter every control passes.
        filtered = api.get(url, {"page_size": 50, "ordering": ordering, "status": "implemented"})
        assert codes == [c["code"] for c in filtered.json()["results"]]
        assert pages[0]["count"] == 4 and len(codes) == 4


@pytest.mark.postgres
def test_the_compiled_list_is_one_query(api, org, two_lists):
    url = org_url(org, "controls/")
    api.get(url, {"page_size": 2})  # compiled and cached
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"page_size": 2})
    assert response.status_code == 200 and response.json()["count"] == 4
    page = [q["sql"] for q in queries if "controls_control" in q["sql"]]
    assert len(page) == 1  # the page, with its count and criteria
    assert "OVER ()" in page[0] and "ARRAY(" in page[0]
