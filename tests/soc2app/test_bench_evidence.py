"""The evidence benchmark section runs at a tiny scale, so `make bench` cannot rot unnoticed.
Figures are printed, never asserted: timing belongs to the benchmark, not to tests."""

from __future__ import annotations

import pytest
from django.db import connection

from soc2app.bench.common import Results

pytestmark = pytest.mark.django_db


def test_evidence_section_reports_its_figures():
    from evidence import bench

    results = Results()
    bench.run(results, scale=0.002)
    figures = {f.name: f for f in results.figures}
    assert any(name.startswith("upload 3 files of 1 MB") for name in figures)
    if connection.vendor != "postgresql":
        assert figures["freshness scan"].value == "skipped"
        return
    assert "seed 2,000 versions in 2 organizations" in figures
    assert figures["migration 0003: backfill is_latest (one UPDATE)"].note == (
        "1,000 latest versions flagged"
    )
    first = figures["freshness scan over 2,000 versions"].note
    assert "changed in 1 batch of 10,000" in first
    assert figures["freshness scan again (idempotent)"].note == "0 changed"
    assert figures["per-row ORM loop over the same rows (extrapolated)"].note.endswith(
        "on 200 of 1,000 rows"
    )
    assert figures["set-based scan vs per-row loop"].value.endswith("x faster")
