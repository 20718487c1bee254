"""Samples: the suggested size and its reason, the seeded draw recorded and reproducible, the
second draw, drawing by hand, each item a PBC request, test results and exceptions, who may
do what."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reports import pbc, populations, samples, sampling, selectors_sampling
from reports.models import InfoRequest, SampleItem, SampleResult
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.factories import evidence_row
from tests.reports.conftest import hires_csv

pytestmark = pytest.mark.django_db
SEED = "seed-for-tests-1"


@pytest.fixture
def population(sampling_world):
    w = sampling_world
    return populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(60)
    )


def _draw(w, population, **kwargs):
    data = {"seed": SEED, "size": 5, "size_reason": "Low-risk control, prior year clean.", **kwargs}
    return samples.sample_draw(
        membership=kwargs.pop("who", w.auditor),
        population=population,
        **{k: v for k, v in data.items() if k != "who"},
    )


def test_seeded_draw_is_recorded_reproducible_and_freezes(sampling_world, population):
    w = sampling_world
    sample = _draw(w, population)
    population.refresh_from_db()
    assert population.frozen_at is not None
    assert (sample.size, sample.suggested_size, sample.seed, sample.method) == (
        5,
        6,
        SEED,
        "seeded",
    )
    items = list(selectors_sampling.sample_items(sample))
    ids = [i.population_item.item_id for i in items]
    all_ids = [r.item_id for r in selectors_sampling.population_rows(population)]
    assert ids == sampling.seeded_order(SEED, all_ids)[:5]
    entry = ActivityEntry.objects.for_org(w.org).get(action="sample.draw")
    assert entry.changes["drawn_items"] == [None, ids] and entry.changes["seed"] == [None, SEED]


def test_each_item_is_a_request_the_organization_answers(sampling_world, population):
    w = sampling_world
    sample = _draw(w, population)
    items = list(selectors_sampling.sample_items(sample))
    refs = [i.request.reference for i in items]
    assert refs == ["PBC-1", "PBC-2", "PBC-3", "PBC-4", "PBC-5"]
    first = items[0]
    assert first.request.control_id == w.control.pk and first.population_item.item_id in (
        first.request.title
    )
    version = evidence_row(w.control, dt.date(2025, 2, 1))
    pbc.request_answer(membership=w.manager, request=first.request, version_ids=[version.pk])
    assert InfoRequest.objects.for_org(w.org).get(pk=first.request_id).status == "answered"


def test_the_suggested_size_needs_no_reason_another_does(sampling_world, population):
    w = sampling_world
    with pytest.raises(ValidationFailed, match="The suggested size is 6"):
        _draw(w, population, size_reason="")
    assert _draw(w, population, size=None, size_reason="").size == 6


def test_larger_than_the_population_is_refused(sampling_world, population):
    with pytest.raises(ValidationFailed, match="cannot be larger than the population"):
        _draw(sampling_world, population, size=61)
    with pytest.raises(ValidationFailed, match="at most 500 items"):
        _draw(sampling_world, population, size=501)


def test_a_second_draw_needs_a_reason_and_replaces_the_first(sampling_world, population):
    w = sampling_world
    first = _draw(w, population)
    with pytest.raises(ValidationFailed, match="sampled already"):
        _draw(w, population, seed="another-seed")
    second = _draw(w, population, seed="another-seed", redraw_reason="Wrong population seen.")
    assert (first.number, second.number) == (1, 2)
    item = selectors_sampling.sample_items(first).first()
    with pytest.raises(ValidationFailed, match="replaced by a later draw"):
        samples.sample_item_test(membership=w.auditor, item=item, result="no_exception")


def test_drawn_by_hand(sampling_world, population):
    w = sampling_world
    sample = _draw(w, population, method="manual", item_ids=["E00007", "E00003"], size=None)
    ids = [i.population_item.item_id for i in selectors_sampling.sample_items(sample)]
    assert ids == ["E00007", "E00003"] and sample.seed == ""


def test_ids_from_elsewhere_are_refused(sampling_world, population, other_org):
    w = sampling_world
    with pytest.raises(ValidationFailed, match="Not in this population: NOPE"):
        _draw(w, population, method="manual", item_ids=["E00001", "NOPE"], size=None)


def test_results_no_exception_and_exception_with_note(sampling_world, population):
    w = sampling_world
    sample = _draw(w, population)
    one, two = list(selectors_sampling.sample_items(sample))[:2]
    samples.sample_item_test(membership=w.auditor, item=one, result="no_exception")
    with pytest.raises(ValidationFailed, match="Describe the exception"):
        samples.sample_item_test(membership=w.auditor, item=two, result="exception")
    samples.sample_item_test(
        membership=w.auditor, item=two, result="exception", note="No signed approval."
    )
    found = selectors_sampling.sample_exceptions(w.audit)
    assert [(e.item_id, e.note, e.tested_by, e.control_code) for e in found] == [
        (two.population_item.item_id, "No signed approval.", w.auditor.user.email, "HR-01")
    ]
    actions = set(
        ActivityEntry.objects.for_org(w.org)
        .filter(action__startswith="sample.")
        .values_list("action", flat=True)
    )
    assert actions == {"sample.draw", "sample.test", "sample.exception"}
    assert selectors_sampling.controls_with_sample_exceptions(w.audit) == {w.control.pk}
    assert selectors_sampling.controls_with_sample_exceptions(w.other_audit) == set()
    assert SampleItem.objects.for_org(w.org).filter(result=SampleResult.NONE).count() == 3


def test_managers_draw_but_do_not_test(sampling_world, population):
    w = sampling_world
    sample = _draw(w, population, who=w.manager)
    item = selectors_sampling.sample_items(sample).first()
    with pytest.raises(NotPermitted):
        samples.sample_item_test(membership=w.manager, item=item, result="no_exception")


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR])
def test_other_roles_cannot_draw(sampling_world, population, make_member, role):
    with pytest.raises(NotPermitted):
        _draw(sampling_world, population, who=make_member(sampling_world.org, role))


def test_auditor_not_granted_and_outsider_are_refused(
    sampling_world, population, make_member, outsider
):
    w = sampling_world
    other = populations.population_upload_csv(
        membership=w.manager, audit=w.other_audit, control=w.control, data=hires_csv(10)
    )
    with pytest.raises(NotFound):
        _draw(w, other, size=None)
    with pytest.raises(NotFound):
        _draw(w, population, who=outsider)
    expired = make_member(w.org, Role.AUDITOR)
    with pytest.raises(NotFound):
        _draw(w, population, who=expired)
    assert not selectors_sampling.samples_for_population(population).exists()


def test_the_readme_script_re_draws_a_stored_sample_from_its_export(
    sampling_world, population, tmp_path
):
    w = sampling_world
    sample = _draw(w, population)
    export = b"".join(selectors_sampling.population_export(population))
    assert hashlib.sha256(export).hexdigest() == population.sha256
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    script = re.search(r"<!-- sample-script -->\s*```python\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "draw.py").write_text(script)
    (tmp_path / "population.csv").write_bytes(export)
    out = subprocess.run(
        [sys.executable, "draw.py", "population.csv", sample.seed, str(sample.size)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [i.population_item.item_id for i in selectors_sampling.sample_items(sample)]
