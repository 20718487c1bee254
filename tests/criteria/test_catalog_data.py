"""The shipped catalog holds exactly the Trust Services Criteria and a library covering them."""

from __future__ import annotations

from collections import Counter

import pytest

from controls.models import ControlTemplate, ControlType, Frequency
from criteria.models import Category, Criterion, CrosswalkMapping

EXPECTED = {
    "security": [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + ["CC4.1", "CC4.2"]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2"],
    "availability": ["A1.1", "A1.2", "A1.3"],
    "confidentiality": ["C1.1", "C1.2"],
    "processing_integrity": [f"PI1.{i}" for i in range(1, 6)],
    "privacy": ["P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2"]
    + [f"P6.{i}" for i in range(1, 8)]
    + ["P7.1", "P8.1"],
}
COMMON = EXPECTED["security"]
# COSO 2013 principle of each CC1-CC5 criterion.
COSO = dict(
    zip(
        [r for r in COMMON if r[:3] in {"CC1", "CC2", "CC3", "CC4", "CC5"}],
        [1, 2, 3, 4, 5, 13, 14, 15, 6, 7, 8, 9, 16, 17, 10, 11, 12],
        strict=True,
    )
)


def test_exact_identifiers_per_category(catalog):
    got = {
        c.key: list(
            Criterion.objects.filter(category=c).order_by("position").values_list("ref", flat=True)
        )
        for c in Category.objects.filter(framework=catalog)
    }
    assert got == EXPECTED
    assert [len(v) for v in got.values()] == [33, 3, 2, 5, 18]
    assert Criterion.objects.filter(framework=catalog).count() == 61
    assert list(
        Category.objects.filter(framework=catalog, always_in_scope=True).values_list(
            "key", flat=True
        )
    ) == ["security"]


def test_coso_principles(catalog):
    got = dict(
        Criterion.objects.filter(framework=catalog, coso_principle__isnull=False).values_list(
            "ref", "coso_principle"
        )
    )
    assert got == COSO
    assert sorted(got.values()) == list(range(1, 18))


def test_every_criterion_is_described_with_points_of_focus(catalog):
    for criterion in Criterion.objects.filter(framework=catalog).prefetch_related(
        "points_of_focus"
    ):
        assert len(criterion.title) > 5 and len(criterion.description) > 60, criterion.ref
        assert criterion.points_of_focus.count() >= 2, criterion.ref


@pytest.mark.parametrize("external", ["iso27001-2022", "nist-csf-2.0"])
def test_every_common_criterion_has_a_crosswalk(catalog, external):
    mapped = set(
        CrosswalkMapping.objects.filter(reference__framework__key=external).values_list(
            "criterion__ref", flat=True
        )
    )
    assert set(COMMON) <= mapped


def test_crosswalk_lookup(catalog):
    cc61 = Criterion.objects.get(framework=catalog, ref="CC6.1")
    refs = set(
        CrosswalkMapping.objects.filter(criterion=cc61).values_list("reference__ref_id", flat=True)
    )
    assert "A.8.5" in refs  # secure authentication
    assert any(r.startswith("PR.AA") for r in refs)  # CSF 2.0 identity and access


def test_library_covers_every_criterion(catalog):
    templates = ControlTemplate.objects.prefetch_related("criteria")
    assert templates.count() >= 80
    covered = Counter(ref for t in templates for ref in t.criteria.values_list("ref", flat=True))
    missing = [ref for refs in EXPECTED.values() for ref in refs if not covered[ref]]
    assert missing == []
    for t in templates:
        assert t.control_type in ControlType.values and t.frequency in Frequency.values
        assert t.evidence_guidance and 1 <= t.criteria.count() <= 5, t.code
