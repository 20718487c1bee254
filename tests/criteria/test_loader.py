"""load_catalog: idempotent, all-or-nothing, and precise about what is wrong in a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from controls.models import ControlTemplate
from criteria.catalog import catalog_load, shipped_files
from criteria.datafile import CatalogError
from criteria.models import Criterion, CrosswalkMapping, Framework, PointOfFocus

TSC = shipped_files()["frameworks"][0]
LIBRARY = shipped_files()["libraries"][0]
ISO = next(p for p in shipped_files()["crosswalks"] if "iso" in p.name)


def _counts() -> tuple[int, ...]:
    return (
        Framework.objects.count(),
        Criterion.objects.count(),
        PointOfFocus.objects.count(),
        CrosswalkMapping.objects.count(),
        ControlTemplate.objects.count(),
        ControlTemplate.criteria.through.objects.count(),
    )


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_second_load_changes_nothing(catalog, capsys):
    before = _counts()
    titles = dict(Criterion.objects.values_list("ref", "title"))
    report = catalog_load()
    assert not report.changed, report.lines()
    assert _counts() == before
    assert dict(Criterion.objects.values_list("ref", "title")) == titles
    call_command("load_catalog")
    assert "nothing changed" in capsys.readouterr().out


def test_an_edited_title_is_updated_in_place(catalog, tmp_path):
    cc11 = Criterion.objects.get(ref="CC1.1")
    text = TSC.read_text().replace(
        "title: Commitment to integrity and ethical values", "title: Integrity first"
    )
    report = catalog_load(
        frameworks=[_write(tmp_path, "tsc.yaml", text)], crosswalks=[], libraries=[]
    )
    # The framework row records its new source file; only CC1.1 changed among the criteria.
    assert report.lines() == ["criterion: 1 updated", "framework: 1 updated"]
    assert Criterion.objects.get(pk=cc11.pk).title == "Integrity first"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda t: t.replace("  - key: security\n", "  - key: security\n    bogus: 1\n", 1),
            "unknown key(s): bogus",
        ),
        (
            lambda t: t.replace(
                "            title: Commitment to integrity and ethical values\n", "", 1
            ),
            "missing key(s): title",
        ),
        (
            lambda t: t.replace("coso_principle: 1\n", "coso_principle: 99\n", 1),
            "coso_principle: must be a whole number",
        ),
        (lambda t: t.replace("ref: CC1.2\n", "ref: CC1.1\n", 1), "criterion CC1.1 appears twice"),
        (
            lambda t: t.replace("ref: CC1.1\n", "ref: CC1.1\n            ref: CC1.1\n", 1),
            "duplicate key 'ref'",
        ),
        (lambda t: t.replace("categories:\n", "categories: [\n", 1), "is not valid YAML"),
    ],
    ids=[
        "unknown-key",
        "missing-title",
        "bad-coso",
        "duplicate-ref",
        "duplicate-yaml-key",
        "syntax",
    ],
)
def test_malformed_framework_file_is_refused_with_its_location(catalog, tmp_path, mutate, expected):
    original = TSC.read_text()
    text = mutate(original)
    assert text != original, "the mutation must apply"
    path = _write(tmp_path, "tsc.yaml", text)
    before = _counts()
    with pytest.raises(CatalogError) as info:
        catalog_load(frameworks=[path], crosswalks=[], libraries=[])
    message = str(info.value)
    assert expected in message
    assert message.startswith(str(path)) and ", line " in message
    assert _counts() == before


def test_error_names_the_key_path(catalog, tmp_path):
    text = TSC.read_text().replace(
        "title: Board independence and oversight of internal control", "title: ''", 1
    )
    with pytest.raises(CatalogError) as info:
        catalog_load(frameworks=[_write(tmp_path, "tsc.yaml", text)], crosswalks=[], libraries=[])
    assert info.value.key == "categories[0].series[0].criteria[1].title"
    assert "must be a non-empty text" in str(info.value)


def test_a_bad_later_file_rolls_back_the_earlier_ones(catalog, tmp_path):
    edited = TSC.read_text().replace(
        "title: Commitment to integrity and ethical values", "title: Changed"
    )
    bad_library = LIBRARY.read_text().replace(
        "criteria: [CC5.3, CC2.2, CC1.3]", "criteria: [CC5.3, ZZ9.9]", 1
    )
    assert bad_library != LIBRARY.read_text()
    with pytest.raises(CatalogError, match=r"ZZ9\.9 is not a criterion of aicpa-tsc-2017"):
        catalog_load(
            frameworks=[_write(tmp_path, "tsc.yaml", edited)],
            crosswalks=[ISO],
            libraries=[_write(tmp_path, "lib.yaml", bad_library)],
        )
    assert Criterion.objects.get(ref="CC1.1", framework=catalog).title != "Changed"


def test_crosswalk_to_an_unknown_reference_or_criterion(catalog, tmp_path):
    text = ISO.read_text()
    unknown_ref = text.replace("CC1.1: [", "CC1.1: [A.99.99, ", 1)
    with pytest.raises(CatalogError, match="'A.99.99' is not listed under references"):
        catalog_load(
            frameworks=[], crosswalks=[_write(tmp_path, "iso.yaml", unknown_ref)], libraries=[]
        )
    unknown_criterion = text.replace("  CC1.1: [", "  CC99.1: [", 1)
    with pytest.raises(CatalogError, match="'CC99.1' is not a criterion"):
        catalog_load(
            frameworks=[],
            crosswalks=[_write(tmp_path, "iso.yaml", unknown_criterion)],
            libraries=[],
        )


def test_a_loaded_version_cannot_lose_criteria(catalog, tmp_path):
    text = TSC.read_text()
    start = text.index("          - ref: CC1.5")
    end = text.index("      - key: CC2")
    with pytest.raises(CatalogError, match="criterion CC1.5 would be removed"):
        catalog_load(
            frameworks=[_write(tmp_path, "tsc.yaml", text[:start] + text[end:])],
            crosswalks=[],
            libraries=[],
        )


def test_new_version_is_loaded_beside_the_old_one(catalog, tmp_path):
    template = ControlTemplate.objects.get(code="GOV-01")
    mapped_before = set(template.criteria.values_list("pk", flat=True))
    text = TSC.read_text().replace("key: aicpa-tsc-2017", "key: aicpa-tsc-2017-next", 1)
    text = text.replace('version: "2017 (2022 points of focus)"', 'version: "next"', 1)
    catalog_load(frameworks=[_write(tmp_path, "tsc-next.yaml", text)], crosswalks=[], libraries=[])
    assert Framework.objects.count() == 2
    assert Criterion.objects.filter(framework__key="aicpa-tsc-2017-next").count() == 61
    assert Criterion.objects.filter(framework=catalog).count() == 61
    assert set(template.criteria.values_list("pk", flat=True)) == mapped_before


def test_command_reports_errors_in_one_line(catalog, tmp_path):
    path = _write(tmp_path, "broken.yaml", "framework: [\n")
    with pytest.raises(CommandError, match="broken.yaml, line"):
        call_command("load_catalog", "--framework", str(path))
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("load_catalog", "--framework", str(tmp_path / "missing.yaml"))
