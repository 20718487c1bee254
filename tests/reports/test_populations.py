"""Populations: uploaded as CSV, pushed or built from evidence, stored whole or not at all, hashed
in their canonical form (the export), versioned, and who may supply them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from reports import populations, selectors_sampling
from reports.models import Population, PopulationItem
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, evidence_row
from tests.reports.conftest import hires_csv

pytestmark = pytest.mark.django_db


def _upload(w, data=None, who=None, **kwargs):
    return populations.population_upload_csv(
        membership=who or w.manager,
        audit=kwargs.pop("audit", w.audit),
        control=kwargs.pop("control", w.control),
        data=hires_csv(60) if data is None else data,
        name="hires.csv",
    )


def test_upload_stores_items_hash_equals_the_export_and_is_logged(sampling_world):
    w = sampling_world
    population = _upload(w)
    assert (population.version, population.row_count, population.source) == (1, 60, "csv")
    assert population.supplied_by_label == w.manager.user.email and population.frozen_at is None
    export = b"".join(selectors_sampling.population_export(population))
    assert hashlib.sha256(export).hexdigest() == population.sha256
    assert export.startswith(b"id,date,description\nE00001,2025-01-02,New hire 1\n")
    entry = ActivityEntry.objects.for_org(w.org).get(action="population.create")
    assert entry.changes["sha256"] == [None, population.sha256]


def test_a_correction_is_a_new_version(sampling_world):
    w = sampling_world
    first = _upload(w)
    second = _upload(w, hires_csv(61))
    assert (first.version, second.version) == (1, 2)
    assert PopulationItem.objects.for_org(w.org).filter(population=first).count() == 60
    assert first.sha256 != second.sha256


def test_a_bad_row_stores_nothing(sampling_world):
    w = sampling_world
    data = hires_csv(60) + b"E00002,2025-05-05,again\n"
    with pytest.raises(populations.PopulationRejected) as caught:
        _upload(w, data)
    assert "Row 62: the id E00002 repeats row 3." in caught.value.message
    assert not Population.objects.for_org(w.org).exists()
    assert not PopulationItem.objects.for_org(w.org).exists()


def test_push_names_the_item_and_builds_the_same_hash(sampling_world):
    w = sampling_world
    items = [{"id": "CHG-2", "date": "2025-04-01", "description": "Deploy"}]
    items.append({"id": "CHG-1", "date": "2025-03-01", "description": "Patch"})
    pushed = populations.population_push(
        membership=w.manager, audit=w.audit, control=w.control, items=items
    )
    uploaded = _upload(w, b"id,date,description\nCHG-1,2025-03-01,Patch\nCHG-2,2025-04-01,Deploy\n")
    assert pushed.sha256 == uploaded.sha256 and pushed.source == "api"
    with pytest.raises(ValidationFailed, match="Row 3: the date 'soon'"):
        populations.population_push(
            membership=w.manager,
            audit=w.audit,
            control=w.control,
            items=[items[0], {"id": "X", "date": "soon"}],
        )


def test_built_from_evidence_versions_in_the_window(sampling_world):
    w = sampling_world
    inside = evidence_row(w.control, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    evidence_row(w.control, dt.date(2024, 3, 1), dt.date(2024, 3, 31))  # before the window
    quarantined = evidence_row(w.control, dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    quarantined.scan_state = "infected"
    quarantined.save()
    population = populations.population_from_evidence(
        membership=w.manager, audit=w.audit, control=w.control
    )
    items = list(selectors_sampling.population_items(population))
    assert [(i.item_id, i.date) for i in items] == [(f"EV-{inside.pk}", dt.date(2025, 3, 31))]
    assert population.source == "evidence"


def test_only_type2_audits_and_controls_in_scope(sampling_world, make_audit):
    w = sampling_world
    with pytest.raises(ValidationFailed, match="Type 2"):
        _upload(w, audit=make_audit(w.org))
    unmapped = ControlFactory(organization=w.org, code="ZZ-1")
    with pytest.raises(ValidationFailed, match="in this audit's scope"):
        _upload(w, control=unmapped)


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_who_may_supply_a_population(sampling_world, make_member, role):
    w = sampling_world
    member = w.auditor if role == Role.AUDITOR else make_member(w.org, role)
    with pytest.raises(NotPermitted):
        _upload(w, who=member)
    assert _upload(w, who=w.manager).version == 1


def test_outsider_cannot_supply_to_another_organization(sampling_world, outsider):
    w = sampling_world
    with pytest.raises(NotFound):
        _upload(w, who=outsider)
    assert not Population.objects.for_org(w.org).exists()
