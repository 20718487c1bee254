"""The risk library is data: every entry is complete, its category is one of the register's,
its suggested scores fit the default matrix, and every suggested control code and criterion
exists (in the control library and the shipped catalog)."""

from __future__ import annotations

import pytest
import yaml
from django.conf import settings

from controls.library_loader import DATA_DIR
from criteria.models import Criterion
from risks.library import library
from risks.matrix import DEFAULT_SIZE
from risks.models import Category


def _control_codes() -> set[str]:
    doc = yaml.safe_load((DATA_DIR / "library.yaml").read_text(encoding="utf-8"))
    return {t["code"] for t in doc["templates"]}


def test_about_forty_complete_entries_with_unique_keys():
    entries = library()
    assert 38 <= len(entries) <= 45
    assert len({e.key for e in entries}) == len(entries)
    assert len({e.title for e in entries}) == len(entries)
    for e in entries:
        assert e.title and e.description and e.controls and e.criteria, e.key
        assert e.category in Category.values, e.key
        assert 1 <= e.likelihood <= DEFAULT_SIZE and 1 <= e.impact <= DEFAULT_SIZE, e.key
    # Fraud (CC3.3) and significant change (CC3.4) are covered.
    assert {"fraud", "change"} <= {e.category for e in entries}


def test_every_suggested_control_code_is_in_the_control_library():
    codes = _control_codes()
    missing = {(e.key, c) for e in library() for c in e.controls if c not in codes}
    assert missing == set()


@pytest.mark.django_db
def test_every_suggested_criterion_is_in_the_catalog():
    refs = set(
        Criterion.objects.filter(framework__key=settings.CATALOG_FRAMEWORK).values_list(
            "ref", flat=True
        )
    )
    assert refs, "the catalog is loaded"
    missing = {(e.key, c) for e in library() for c in e.criteria if c not in refs}
    assert missing == set()
