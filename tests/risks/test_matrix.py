"""Editing the risk matrix (service, page, API): the happy path with its activity entry and the
levels and heat map following the new thresholds at once; every refusal (shrinking under scored
risks, thresholds out of order or range, wrong label counts, bad sizes and intervals) changing
nothing; managers only (contributors, auditors, read-only and contributor keys refused);
another organization's matrix untouched. And the residual score never above the inherent one
(service, form, API, after a library adoption)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from risks import services, services_matrix
from risks.matrix import level_of, matrix_for
from risks.models import Level, Risk, RiskMatrix
from soc2app.errors import NotPermitted, ValidationFailed
from tenants.activity import ActivityEntry
from tenants.models import Role

pytestmark = pytest.mark.django_db

LIK4 = ["Rare", "Unlikely", "Likely", "Almost certain"]
IMP4 = ["Minor", "Moderate", "Major", "Severe"]


def api(org) -> str:
    return f"/api/v1/orgs/{org.slug}/risks/matrix/"


def page(org) -> str:
    return reverse("risk_matrix", kwargs={"org_slug": org.slug})


def _state(org) -> tuple:
    m = RiskMatrix.objects.for_org(org).get()
    return (m.size, m.likelihood_labels, m.impact_labels, m.thresholds, m.assessment_interval_days)


def _entries(org):
    return ActivityEntry.objects.for_org(org).filter(object_type="risks.riskmatrix")


def test_a_manager_changes_the_matrix_and_levels_follow_at_once(org, add, manager, client_for):
    risk = add(inherent_likelihood=3, inherent_impact=3)  # 9: medium on the default matrix
    client = client_for(manager)
    html = client.get(reverse("risk_heatmap", kwargs={"org_slug": org.slug})).content.decode()
    assert "Likelihood 3, impact 3 (Medium): 1." in html
    matrix = services_matrix.matrix_update(
        membership=manager,
        size=4,
        likelihood_labels=LIK4,
        impact_labels=IMP4,
        thresholds={"medium": 3, "high": 6, "critical": 9},
        assessment_interval_days=180,
    )
    assert _state(org) == (4, LIK4, IMP4, {"medium": 3, "high": 6, "critical": 9}, 180)
    assert level_of(matrix, risk.inherent_score) == Level.CRITICAL
    entry = _entries(org).get()
    assert entry.action == "update"
    assert entry.changes["size"] == [5, 4]
    assert entry.changes["thresholds"] == [
        {"medium": 5, "high": 10, "critical": 16},
        {"medium": 3, "high": 6, "critical": 9},
    ]
    assert entry.changes["assessment_interval_days"] == [365, 180]
    # The heat map, the register and the risk page read the new thresholds.
    html = client.get(reverse("risk_heatmap", kwargs={"org_slug": org.slug})).content.decode()
    assert "Likelihood 3, impact 3 (Critical): 1." in html
    assert html.count('<rect x="') == 2 * 16  # two 4x4 grids
    register = reverse("risks", kwargs={"org_slug": org.slug})
    assert "Account takeover" in client.get(register, {"level": "critical"}).content.decode()
    assert "Account takeover" not in client.get(register, {"level": "medium"}).content.decode()
    # Saving the same values again changes nothing and logs nothing.
    services_matrix.matrix_update(membership=manager, size=4)
    assert _entries(org).count() == 1


REFUSALS = [
    ({"size": 1}, "size", "from 2 to 10"),
    ({"size": 11}, "size", "from 2 to 10"),
    ({"size": "5"}, "size", "whole number"),
    ({"likelihood_labels": ["a", "b", "c", "d"]}, "likelihood_labels", "Give 5 likelihood"),
    ({"impact_labels": ["a"] * 6}, "impact_labels", "Give 5 impact labels"),
    ({"impact_labels": ["a", "b", " ", "d", "e"]}, "impact_labels", "step 3"),
    ({"likelihood_labels": ["x" * 41, "b", "c", "d", "e"]}, "likelihood_labels", "step 1"),
    ({"size": 6}, "likelihood_labels", "Give 6 likelihood labels"),  # a new size, old labels
    ({"thresholds": {"medium": 10, "high": 5, "critical": 16}}, "thresholds", "must rise"),
    ({"thresholds": {"medium": 5, "high": 16, "critical": 16}}, "thresholds", "must rise"),
    ({"thresholds": {"medium": 0, "high": 5, "critical": 16}}, "thresholds", "from 1 to 25"),
    ({"thresholds": {"medium": 5, "high": 10, "critical": 26}}, "thresholds", "from 1 to 25"),
    ({"thresholds": {"medium": 5, "high": 10}}, "thresholds", "medium, high and critical"),
    ({"assessment_interval_days": 29}, "assessment_interval_days", "30 to 1095"),
    ({"assessment_interval_days": 1096}, "assessment_interval_days", "30 to 1095"),
    ({"colour": "red"}, None, "cannot be changed"),
]


@pytest.mark.parametrize("values, field, message", REFUSALS)
def test_refusals_name_the_field_and_change_nothing(org, manager, values, field, message):
    matrix_for(org)
    before = _state(org)
    with pytest.raises(ValidationFailed, match=message) as refused:
        services_matrix.matrix_update(membership=manager, **values)
    assert refused.value.field == field
    assert _state(org) == before and not _entries(org).exists()


def test_shrinking_under_scored_risks_is_refused_with_the_count_and_a_link(
    org, add, manager, client_for, control
):
    for n in range(3):  # likelihood 5: beyond a 4x4 matrix
        add(f"High {n}", inherent_likelihood=5, inherent_impact=2)
    add(  # residual fine, inherent impact 5: beyond too
        "Wide",
        inherent_likelihood=2,
        inherent_impact=5,
        residual_likelihood=1,
        residual_impact=1,
        treatment="mitigate",
        controls=[control.pk],
    )
    add("Small", inherent_likelihood=2, inherent_impact=2)
    before = _state(org)
    values = {"size": 4, "likelihood_labels": LIK4, "impact_labels": IMP4}
    with pytest.raises(services_matrix.RisksBeyondMatrix) as refused:
        services_matrix.matrix_update(membership=manager, **values)
    assert refused.value.message == (
        "4 risks have a likelihood or impact above 4: rescore them first."
    )
    assert _state(org) == before and not _entries(org).exists()
    # The page: the message beside the size, a link to those risks, nothing changed.
    client = client_for(manager)
    form = {
        "size": "4",
        "likelihood_labels": "\n".join(LIK4),
        "impact_labels": "\n".join(IMP4),
        "medium": "5",
        "high": "10",
        "critical": "16",
        "assessment_interval_days": "365",
    }
    response = client.post(page(org), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "4 risks have a likelihood or impact above 4: rescore them first." in html
    register = reverse("risks", kwargs={"org_slug": org.slug})
    assert f'href="{register}?beyond=4"' in html
    listed = client.get(f"{register}?beyond=4").content.decode()
    assert all(f">{t}</a>" in listed for t in ("High 0", "High 1", "High 2", "Wide"))
    assert ">Small</a>" not in listed and "beyond a 4×4 matrix" in listed
    assert _state(org) == before
    # Once rescored, the shrink goes through.
    for risk in Risk.objects.for_org(org).filter(inherent_likelihood=5):
        services.risk_update(
            membership=manager, risk=risk, inherent_likelihood=4, residual_likelihood=4
        )
    Risk.objects.for_org(org).filter(title="Wide").delete()
    assert client.post(page(org), form).status_code == 302
    assert _state(org)[0] == 4


def test_the_page_saves_and_shows_field_errors(org, manager, client_for):
    client = client_for(manager)
    shown = client.get(page(org))
    assert shown.status_code == 200 and "Almost certain" in shown.content.decode()
    base = {
        "size": "3",
        "likelihood_labels": "Low\nMedium\nHigh",
        "impact_labels": "Low\r\nMedium\r\nHigh\r\n",
        "medium": "3",
        "high": "5",
        "critical": "7",
        "assessment_interval_days": "90",
    }
    bad = client.post(page(org), {**base, "impact_labels": "Low\nHigh"})
    assert bad.status_code == 400 and "Give 3 impact labels" in bad.content.decode()
    bad = client.post(page(org), {**base, "high": "9", "critical": "8"})
    assert bad.status_code == 400 and "must rise" in bad.content.decode()
    # Neither the page nor a refused change stored anything: the defaults still apply.
    assert not RiskMatrix.objects.for_org(org).exists() and not _entries(org).exists()
    saved = client.post(page(org), base)
    assert saved.status_code == 302
    assert _state(org) == (
        3,
        ["Low", "Medium", "High"],
        ["Low", "Medium", "High"],
        {"medium": 3, "high": 5, "critical": 7},
        90,
    )
    assert _entries(org).count() == 1


def test_the_api_changes_the_matrix_and_refuses_clearly(org, manager, api_for, add):
    client = api_for(manager)
    changed = client.patch(
        api(org),
        {"thresholds": {"medium": 4, "high": 8, "critical": 12}, "assessment_interval_days": 730},
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert body["thresholds"] == {"medium": 4, "high": 8, "critical": 12}
    assert body["assessment_interval_days"] == 730
    risk = add(inherent_likelihood=3, inherent_impact=4)  # 12: critical now
    one = client.get(f"/api/v1/orgs/{org.slug}/risks/{risk.pk}/").json()
    assert one["inherent_level"] == "critical"
    for payload, field in (
        ({"size": 6}, "likelihood_labels"),
        ({"thresholds": {"medium": 4, "high": 4, "critical": 12}}, "thresholds"),
        ({"likelihood_labels": ["a", "b"]}, "likelihood_labels"),
        ({"size": "big"}, "size"),
        ({"sise": 4}, "sise"),
    ):
        refused = client.patch(api(org), payload)
        assert refused.status_code == 400, payload
        assert field in refused.json()["errors"], refused.json()
    shrink = client.patch(
        api(org),
        {
            "size": 2,
            "likelihood_labels": ["a", "b"],
            "impact_labels": ["c", "d"],
            "thresholds": {"medium": 2, "high": 3, "critical": 4},
        },
    )
    assert shrink.status_code == 400
    assert shrink.json()["code"] == "risks_beyond_matrix"
    assert shrink.json()["detail"] == (
        "1 risk has a likelihood or impact above 2: rescore them first."
    )
    beyond = client.get(f"/api/v1/orgs/{org.slug}/risks/", {"beyond": 2}).json()
    assert [r["id"] for r in beyond["results"]] == [risk.pk]
    assert client.get(api(org)).json()["size"] == 5


def test_only_managers_change_the_matrix(
    org, manager, contributor, auditor, client_for, api_for, key_client
):
    matrix_for(org)
    before = _state(org)
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            services_matrix.matrix_update(membership=member, assessment_interval_days=90)
        assert client_for(member).get(page(org)).status_code in (302, 403)
        assert client_for(member).post(page(org), {"size": "4"}).status_code in (302, 403)
        assert api_for(member).patch(api(org), {"assessment_interval_days": 90}).status_code == 403
    for role in ("read_only", Role.CONTRIBUTOR):
        refused = key_client(org, role).patch(api(org), {"assessment_interval_days": 90})
        assert refused.status_code == 403
    assert _state(org) == before and not _entries(org).exists()
    admin_key = key_client(org, Role.ADMIN).patch(api(org), {"assessment_interval_days": 90})
    assert admin_key.status_code == 200 and _state(org)[4] == 90


def test_another_organizations_matrix_is_untouched(org, other_org, manager, api_for, client_for):
    matrix_for(other_org)
    theirs = _state(other_org)
    client = api_for(manager)
    assert client.patch(api(other_org), {"assessment_interval_days": 90}).status_code == 404
    assert client.get(api(other_org)).status_code == 404
    services_matrix.matrix_update(membership=manager, assessment_interval_days=90)
    assert _state(other_org) == theirs and _state(org)[4] == 90
    other_page = reverse("risk_matrix", kwargs={"org_slug": other_org.slug})
    assert client_for(manager).post(other_page, {"size": "4"}).status_code in (302, 403, 404)
    assert _state(other_org) == theirs


# Residual not above inherent.


def test_a_residual_above_the_inherent_is_refused_in_the_service(org, add, manager):
    with pytest.raises(ValidationFailed, match=r"residual score \(3x4 = 12\) cannot be above") as e:
        add(inherent_likelihood=2, inherent_impact=4, residual_likelihood=3, residual_impact=4)
    assert e.value.field == "residual_likelihood"
    assert not Risk.objects.for_org(org).exists()
    risk = add(inherent_likelihood=3, inherent_impact=4, residual_likelihood=2, residual_impact=4)
    with pytest.raises(ValidationFailed, match="cannot be above the inherent"):
        services.risk_update(membership=manager, risk=risk, inherent_likelihood=1)
    risk.refresh_from_db()
    assert (risk.inherent_score, risk.residual_score) == (12, 8)
    # Equal is fine: not treated yet.
    services.risk_update(membership=manager, risk=risk, residual_likelihood=3)
    risk.refresh_from_db()
    assert risk.residual_score == risk.inherent_score == 12


def test_a_residual_above_the_inherent_is_refused_on_the_form_and_the_api(
    org, manager, client_for, api_for
):
    form = {
        "title": "Vendor breach",
        "category": "vendor",
        "inherent_likelihood": "2",
        "inherent_impact": "2",
        "residual_likelihood": "3",
        "residual_impact": "2",
        "treatment": "undecided",
    }
    response = client_for(manager).post(reverse("risk_new", kwargs={"org_slug": org.slug}), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_residual_likelihood_error"' in html and "cannot be above the inherent" in html
    client = api_for(manager)
    base = f"/api/v1/orgs/{org.slug}/risks/"
    refused = client.post(
        base,
        {
            "title": "T",
            "category": "security",
            "inherent_likelihood": 1,
            "inherent_impact": 2,
            "residual_likelihood": 2,
            "residual_impact": 2,
        },
    )
    assert refused.status_code == 400
    assert "cannot be above the inherent" in refused.json()["errors"]["residual_likelihood"][0]
    assert not Risk.objects.for_org(org).exists()
    # After a library adoption (residual = inherent), raising the residual is refused too.
    adopted = client.post(f"{base}adopt/", {"library_key": "insider-fraud"}).json()
    assert adopted["residual_score"] == adopted["inherent_score"]
    path = f"{base}{adopted['id']}/"
    raised = client.patch(path, {"residual_likelihood": adopted["inherent_likelihood"] + 1})
    assert raised.status_code == 400 and "residual_likelihood" in raised.json()["errors"]
    lowered = client.patch(path, {"inherent_impact": adopted["inherent_impact"] - 1})
    assert lowered.status_code == 400
    assert client.get(path).json()["inherent_score"] == adopted["inherent_score"]
