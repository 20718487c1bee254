"""seed_demo shows a Type 2 population, a sample drawn by the demo auditor and one exception."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from controls.models import Audit
from reports.models import Population, Sample, SampleItem
from reports.selectors_sampling import sample_exceptions
from tenants.models import Organization

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_demo_has_a_population_a_sample_and_one_exception(catalog):
    call_command("seed_demo", "--org", "demo-co")
    org = Organization.objects.get(slug="demo-co")
    audit = Audit.objects.for_org(org).get(name="SOC 2 Type 2 (demo)")
    population = Population.objects.for_org(org).get(audit=audit)
    sample = Sample.objects.for_org(org).get(population=population)
    assert (population.row_count, sample.size, sample.seed) == (40, 5, "demo-seed-0001")
    assert [e.note for e in sample_exceptions(audit)] == [
        "Access was granted two days before the manager's approval."
    ]
    call_command("seed_demo", "--org", "demo-co")
    assert SampleItem.objects.for_org(org).count() == 5
    assert Population.objects.for_org(org).count() == 1
