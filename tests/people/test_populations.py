"""The roster's joiners and leavers as ready-made Type 2 populations: only people whose start
(or end) date falls in the audit's window, keyed by person id, stored like any population, in
the page and the API; and only the audit's own organization's people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from people import services
from reports import populations
from reports.models import PopulationItem
from soc2app.errors import ValidationFailed
from tests.reports.conftest import WINDOW

pytestmark = pytest.mark.django_db

IN = WINDOW[0] + dt.timedelta(days=40)
BEFORE = WINDOW[0] - dt.timedelta(days=400)


@pytest.fixture
def roster(sampling_world, outsider):
    m = sampling_world.manager

    def add(name, start, end=None, membership=m):
        person = services.person_create(
            membership=membership,
            full_name=name,
            email=f"{name.lower()}@example.com",
            start_date=start,
            title="Engineer",
        )
        if end is not None:
            services.person_end(membership=membership, person=person, end_date=end)
        return person

    return {
        "joiner": add("Joy", IN),
        "veteran": add("Vic", BEFORE),
        "leaver": add("Leo", BEFORE, IN + dt.timedelta(days=10)),
        "late": add("Lou", WINDOW[1] + dt.timedelta(days=1)),
        "theirs": add("Them", IN, membership=outsider),
    }


def _items(population) -> list[tuple[str, dt.date, str]]:
    rows = PopulationItem.objects.for_org(population.organization_id).filter(population=population)
    return sorted(rows.values_list("item_id", "date", "description"))


def test_joiners_and_leavers_in_the_window_become_populations(sampling_world, roster):
    w = sampling_world
    args = {"membership": w.manager, "audit": w.audit, "control": w.control}
    joiners = populations.population_from_source(**args, key="people.joiners")
    assert (joiners.source, joiners.source_name) == ("built", "New hires in the window (roster)")
    assert _items(joiners) == [
        (f"PER-{roster['joiner'].pk}", IN, "Joy <joy@example.com>, Engineer")
    ]
    leavers = populations.population_from_source(**args, key="people.leavers")
    assert _items(leavers) == [
        (
            f"PER-{roster['leaver'].pk}",
            IN + dt.timedelta(days=10),
            "Leo <leo@example.com>, Engineer",
        )
    ]
    assert leavers.version == 2 and len(leavers.sha256) == 64


def test_an_empty_window_or_an_unknown_source_stores_nothing(sampling_world):
    w = sampling_world
    args = {"membership": w.manager, "audit": w.audit, "control": w.control}
    with pytest.raises(ValidationFailed, match="Nobody on the roster started"):
        populations.population_from_source(**args, key="people.joiners")
    with pytest.raises(ValidationFailed, match="No such ready-made population"):
        populations.population_from_source(**args, key="people.everyone")


def test_the_page_and_the_api_offer_them(sampling_world, roster, client_for, api_for):
    w = sampling_world
    page_url = reverse("population_list", kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk})
    client = client_for(w.manager)
    assert "Leavers in the window (roster)" in client.get(page_url).content.decode()
    response = client.post(page_url, {"control": w.control.pk, "source": "source:people.joiners"})
    assert response.status_code == 302
    api = api_for(w.manager)
    made = api.post(
        f"/api/v1/orgs/{w.org.slug}/audits/{w.audit.pk}/populations/",
        {"control": w.control.pk, "from_source": "people.leavers"},
    )
    assert made.status_code == 201, made.json()
    assert made.json()["row_count"] == 1 and made.json()["source"] == "built"
