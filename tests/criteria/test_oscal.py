from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from trestle.oscal.catalog import Catalog


def test_export_oscal_is_a_valid_trestle_catalog(catalog, tmp_path):
    out = tmp_path / "catalog.json"
    call_command("export_oscal", "--out", str(out))
    parsed = Catalog.oscal_read(out)  # validation by compliance-trestle's OSCAL models
    assert [g.id for g in parsed.groups] == [
        "security",
        "availability",
        "confidentiality",
        "processing_integrity",
        "privacy",
    ]
    assert sum(len(g.controls) for g in parsed.groups) == 61
    cc11 = parsed.groups[0].controls[0]
    assert cc11.id == "cc1.1" and cc11.title == "Commitment to integrity and ethical values"
    statement, points = cc11.parts
    assert statement.name == "statement" and len(points.parts) >= 2
    props = {(p.name, p.value) for p in cc11.props}
    assert ("label", "CC1.1") in props and ("coso-principle", "1") in props
    assert any(p.name == "crosswalk" for p in cc11.props)


def test_export_refuses_a_bad_destination(catalog, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_oscal", "--out", str(tmp_path / "nope" / "x.json"))
    with pytest.raises(CommandError, match="is a directory"):
        call_command("export_oscal", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="no framework"):
        call_command("export_oscal", "--out", str(tmp_path / "x.json"), "--framework", "nope")


def test_oscal_download_from_the_ui(catalog, org, manager, client_for):
    response = client_for(manager).get(reverse("catalog_oscal", args=[org.slug]))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="aicpa-tsc-2017-oscal-catalog.json"'
    )
    assert json.loads(response.content)["catalog"]["metadata"]["oscal-version"]
