"""The reports benchmark runs at a tiny scale so `make bench` cannot rot unnoticed.
Figures are printed, never asserted: timing belongs to the benchmark, not to tests."""

from __future__ import annotations

import pytest

from soc2app.bench.common import Results

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_reports_section_reports_its_figures(catalog):
    from reports import bench

    results = Results()
    bench.run(results, scale=0.02)
    names = [f.name for f in results.figures]
    assert names[0] == "seed 10 controls, 200 versions"
    assert "Type 2 PDF, parallel parts (target < 15 s)" in names
    assert "baseline: the same content in one pass" in names
    assert "  speed-up over the baseline" in names
    notes = {f.name: f.note for f in results.figures}
    # Type 2: 16 + the deviations + the failed sample items (one query each, at any size)
    # + the appendices of an organization without risks or vendors (the risk count; the
    # vendor rules and the vendor list's aggregate)
    assert notes["read the report's data"] == "21 queries"


def test_samples_section_reports_its_figures(catalog):
    from reports import bench_sampling

    results = Results()
    bench_sampling.run(results, scale=0.001)
    assert [f.name for f in results.figures] == [
        "population of 100 rows uploaded (target < 10 s)",
        "seeded sample drawn (target < 1 s)",
    ]
    assert results.figures[1].note == "10 items, each a request for information"
