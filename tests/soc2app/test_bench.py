"""The benchmark sections run (at a tiny scale) so `make bench` cannot rot unnoticed.
Figures are printed, never asserted: timing belongs to the benchmark, not to tests."""

from __future__ import annotations

import pytest

from soc2app.bench.common import Results
from tenants.models import Role
from tests.soc2app.test_home import HOME_QUERIES

pytestmark = pytest.mark.django_db


def test_readiness_section_seeds_and_reports_its_figures(catalog, settings, capsys):
    from soc2app.bench import readiness

    settings.ALLOWED_HOSTS = ["testserver"]
    results = Results()
    readiness.run(results, scale=0.02)
    names = [f.name for f in results.figures]
    assert names[0].startswith("seed 10 controls, 1,000 versions")
    assert "type2: render the dashboard page" in names
    # The query count printed beside the figure is the engine's fixed number.
    notes = {f.name: f.note for f in results.figures}
    assert notes["type1: compute readiness (61 criteria)"].startswith("6 queries")
    assert "HTTP 200" in notes["type2: render the dashboard page"]
    # The dashboards' fixed counts (tests/controls/test_dashboard.py), with their size.
    assert notes["type1: render the dashboard page"].startswith("17 queries, ")
    assert notes["type2: render the dashboard page"].startswith("19 queries, ")
    assert any(name.startswith("type2: one control's coverage") for name in names)
    assert notes["audits list"].endswith("HTTP 200")


def test_home_section_renders_each_roles_home(catalog, settings):
    from soc2app.bench import home

    settings.ALLOWED_HOSTS = ["testserver"]
    results = Results()
    home.run(results, scale=0.02)
    notes = {f.name: f.note for f in results.figures}
    # The same fixed counts as tests/soc2app/test_home.py asserts, at the benchmark's size.
    assert notes["manager: render the home page"].startswith(
        f"{HOME_QUERIES[Role.COMPLIANCE_MANAGER]} queries"
    )
    assert notes["contributor: render the home page"].startswith(
        f"{HOME_QUERIES[Role.CONTRIBUTOR]} queries"
    )
