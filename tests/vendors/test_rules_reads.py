"""Reading the vendor rules writes nothing: the Rules page and ``GET vendors/rules/`` show the
defaults while the organization has no row, and neither creates it; a refused change creates
nothing; the first change creates the row, and two first changes at once (PostgreSQL, two
connections) create one row holding both."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from soc2app.errors import ValidationFailed
from tenants.context import org_scope
from tests.threads import run_together
from vendors import services_rules
from vendors.models import VendorRules
from vendors.rules import DEFAULT_RULES, as_fields


def _rows(org) -> int:
    return VendorRules.objects.for_org(org).count()


@pytest.mark.django_db
def test_the_page_and_the_api_show_the_defaults_unsaved(org, manager, client_for, api_for):
    page = client_for(manager).get(reverse("vendor_rules", kwargs={"org_slug": org.slug}))
    assert page.status_code == 200
    assert page.context["form"].initial == as_fields(DEFAULT_RULES)
    got = api_for(manager).get(f"/api/v1/orgs/{org.slug}/vendors/rules/")
    assert got.status_code == 200
    assert {k: v for k, v in got.json().items() if k != "updated_at"} == as_fields(DEFAULT_RULES)
    assert _rows(org) == 0


@pytest.mark.django_db
def test_a_refused_change_creates_nothing_and_the_first_change_creates_the_row(org, manager):
    with pytest.raises(ValidationFailed):
        services_rules.rules_update(membership=manager, soc2_months=0)
    assert _rows(org) == 0
    services_rules.rules_update(membership=manager, soc2_months=15)
    row = VendorRules.objects.for_org(org).get()
    assert (row.soc2_months, row.bridge_months) == (15, DEFAULT_RULES.bridge_months)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_changes_at_once_create_one_row_with_both(org, manager):
    start = threading.Barrier(2)

    def change(**values: int):  # noqa: ANN202
        def go() -> VendorRules:
            start.wait(timeout=30)
            return services_rules.rules_update(membership=manager, **values)

        return go

    run_together(org, [change(soc2_months=15), change(expiring_days=45)])
    with org_scope(org):
        row = VendorRules.objects.get()
    assert (row.soc2_months, row.expiring_days) == (15, 45)
