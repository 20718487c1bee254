"""Reading the risk matrix writes nothing: the register, the heat map, the matrix settings
(page and API), the new-risk form and the assessment page show the defaults while the
organization has no matrix row, and none of them creates it; the first change does (one
row, with its activity entry)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from risks import services_matrix
from risks.matrix import DEFAULT_LIKELIHOOD
from risks.models import RiskMatrix
from soc2app.errors import ValidationFailed
from tenants.activity import ActivityEntry

pytestmark = pytest.mark.django_db

PAGES = ("risks", "risk_new", "risk_heatmap", "risk_matrix", "risk_assessment_run")


def _rows(org) -> int:
    return RiskMatrix.objects.for_org(org).count()


@pytest.mark.parametrize("name", PAGES)
def test_a_page_showing_the_matrix_creates_no_row(org, manager, client_for, name):
    response = client_for(manager).get(reverse(name, kwargs={"org_slug": org.slug}))
    assert response.status_code == 200
    assert _rows(org) == 0


def test_the_settings_page_shows_the_defaults_unsaved(org, manager, client_for):
    html = client_for(manager).get(reverse("risk_matrix", kwargs={"org_slug": org.slug}))
    assert "Almost certain" in html.content.decode()
    assert _rows(org) == 0


def test_the_api_reads_the_defaults_and_the_register_without_writing(org, manager, api_for):
    client = api_for(manager)
    body = client.get(f"/api/v1/orgs/{org.slug}/risks/matrix/").json()
    assert body["size"] == 5
    assert body["likelihood_labels"] == DEFAULT_LIKELIHOOD
    assert body["thresholds"] == {"medium": 5, "high": 10, "critical": 16}
    assert client.get(f"/api/v1/orgs/{org.slug}/risks/").status_code == 200
    assert _rows(org) == 0


def test_the_first_change_creates_the_row(org, manager, api_for):
    client = api_for(manager)
    changed = client.patch(
        f"/api/v1/orgs/{org.slug}/risks/matrix/", {"assessment_interval_days": 180}
    )
    assert changed.status_code == 200, changed.json()
    matrix = RiskMatrix.objects.for_org(org).get()
    assert (matrix.size, matrix.assessment_interval_days) == (5, 180)
    entry = ActivityEntry.objects.for_org(org).get(object_type="risks.riskmatrix")
    assert entry.changes == {"assessment_interval_days": [365, 180]}


def test_a_refused_first_change_creates_nothing(org, manager):
    with pytest.raises(ValidationFailed):
        services_matrix.matrix_update(membership=manager, assessment_interval_days=1)
    assert _rows(org) == 0
