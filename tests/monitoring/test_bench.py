"""The monitoring benchmark section (a Prowler OCSF file ingested) runs at a tiny scale, so
`make bench` cannot rot unnoticed. Figures are printed, never asserted, but for query counts."""

from __future__ import annotations

import pytest
from django.db import connection

from soc2app.bench.common import Results

pytestmark = pytest.mark.django_db


def test_monitoring_section_parses_and_ingests_a_prowler_file(catalog):
    from monitoring import bench

    results = Results()
    bench.run(results, scale=0.02)  # 1,000 findings
    figures = {f.name: f for f in results.figures}
    assert "OCSF file of 1,000 findings" in figures
    assert "ingest, second run (fixes and new failures)" in figures
    small, big = figures["queries per run: 250 vs 1,000 findings"].value.split(" vs ")
    if connection.vendor == "postgresql":
        # The same statements for 4 times the results (under 10,000 rows: one INSERT each),
        # give or take those skipped when nothing opens or closes.
        assert abs(int(small) - int(big)) <= 3 and int(big) < 30
