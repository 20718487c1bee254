"""Risk register pages: managers only, another organization's risk is a 404, the register's
filters and its constant query count, the heat map's counts, the form's refusals (nothing
stored, the message beside its field), adopting from the library and deleting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risks import services
from risks.models import Risk
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db


def url(org, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_pages_are_for_managers_only(org, client_for, manager, contributor, auditor, add):
    risk = add()
    pages = [
        url(org, "risks"),
        url(org, "risk_new"),
        url(org, "risk_library"),
        url(org, "risk_heatmap"),
        url(org, "risk_detail", pk=risk.pk),
    ]
    for page in pages:
        assert client_for(manager).get(page).status_code == 200, page
        assert client_for(contributor).get(page).status_code == 403, page
        assert client_for(auditor).get(page).status_code in (302, 403), page
    refused = client_for(contributor).post(url(org, "risk_delete", pk=risk.pk))
    assert refused.status_code == 403 and Risk.objects.for_org(org).count() == 1
    home = client_for(manager).get(url(org, "risks")).content.decode()
    assert f'href="{url(org, "risks")}"' in home  # the sidebar link
    other = client_for(contributor).get(url(org, "policies"))
    assert f'href="{url(org, "risks")}"' not in other.content.decode()


def test_another_organizations_risk_is_not_found(org, other_org, client_for, manager, outsider):
    theirs = services.risk_create(
        membership=outsider,
        title="Theirs",
        category="fraud",
        inherent_likelihood=1,
        inherent_impact=1,
    )
    client = client_for(manager)
    assert client.get(url(org, "risk_detail", pk=theirs.pk)).status_code == 404
    assert client.post(url(org, "risk_detail", pk=theirs.pk), {"title": "x"}).status_code == 404
    assert client.post(url(org, "risk_delete", pk=theirs.pk)).status_code == 404
    assert client.get(url(org, "risk_detail", pk="99999999999999999999")).status_code == 404
    assert client.get(url(other_org, "risks")).status_code in (302, 403, 404)
    assert Risk.objects.for_org(other_org).get().title == "Theirs"


def _fill(org, manager, count: int) -> None:
    controls = [ControlFactory(organization=org) for _ in range(3)]
    for i in range(count):
        services.risk_create(
            membership=manager,
            title=f"Risk {i:03d}",
            category="security",
            owner=manager.pk,
            inherent_likelihood=1 + i % 5,
            inherent_impact=1 + (i // 5) % 5,
            residual_likelihood=1,
            residual_impact=min(1 + i % 3, 1 + (i // 5) % 5),  # never above the inherent
            treatment="mitigate",
            controls=[c.pk for c in controls],
        )


@pytest.mark.parametrize("name", ["risks", "risk_heatmap"])
def test_register_and_heat_map_run_in_constant_queries(org, client_for, manager, name):
    client = client_for(manager)
    counts = []
    for total in (5, 50):
        _fill(org, manager, total - Risk.objects.for_org(org).count())
        client.get(url(org, name))  # warm: the session's first-request bookkeeping
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(org, name))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20, counts


def test_register_filters_by_owner_treatment_and_level(org, add, client_for, manager, reviewer):
    add("Critical one", inherent_likelihood=5, inherent_impact=4, owner=manager.pk)
    add("Medium one", inherent_likelihood=2, inherent_impact=3, owner=reviewer.pk)
    until = timezone.localdate() + dt.timedelta(days=30)
    add(
        "Accepted",
        inherent_likelihood=1,
        inherent_impact=1,
        treatment="accept",
        accepted_reason="Small",
        accepted_until=until,
        today=timezone.localdate(),
    )
    client = client_for(manager)

    def titles(**params) -> list[str]:
        html = client.get(url(org, "risks"), params).content.decode()
        return [t for t in ("Critical one", "Medium one", "Accepted") if f">{t}</a>" in html]

    assert titles() == ["Critical one", "Medium one", "Accepted"]
    assert titles(level="critical") == ["Critical one"]
    assert titles(level="medium") == ["Medium one"]
    assert titles(owner=reviewer.pk) == ["Medium one"]
    assert titles(treatment="accept") == ["Accepted"]
    assert titles(level="bogus") == ["Critical one", "Medium one", "Accepted"]


def test_heat_map_counts_inherent_and_residual(org, add, client_for, manager, control):
    add(
        "A",
        inherent_likelihood=5,
        inherent_impact=5,
        residual_likelihood=2,
        residual_impact=2,
        treatment="mitigate",
        controls=[control.pk],
    )
    add("B", inherent_likelihood=5, inherent_impact=5)
    html = client_for(manager).get(url(org, "risk_heatmap")).content.decode()
    assert html.count("<svg viewBox") == 2
    assert "Likelihood 5, impact 5 (Critical): 2." in html  # inherent
    assert "Likelihood 2, impact 2 (Low): 1." in html  # residual
    assert '<title id="hm-inherent-title">' in html and "style=" not in html.split("<main")[-1]


def test_form_refusals_store_nothing_and_show_the_message(org, add, client_for, manager):
    client = client_for(manager)
    base = {
        "title": "Vendor breach",
        "category": "vendor",
        "inherent_likelihood": "3",
        "inherent_impact": "4",
        "residual_likelihood": "3",
        "residual_impact": "4",
    }
    cases = [
        ({"treatment": "mitigate"}, "link at least one control"),
        ({"treatment": "accept"}, "Say why the risk is accepted"),
        ({"treatment": "accept", "accepted_reason": "Fine"}, "Give the date until which"),
        ({"inherent_likelihood": "7", "treatment": "avoid"}, "Select a valid choice"),
    ]
    for extra, message in cases:
        response = client.post(url(org, "risk_new"), {**base, **extra})
        assert response.status_code == 400
        assert message in response.content.decode(), extra
    assert Risk.objects.for_org(org).count() == 0
    made = client.post(url(org, "risk_new"), {**base, "treatment": "transfer"})
    risk = Risk.objects.for_org(org).get()
    assert made["Location"] == url(org, "risk_detail", pk=risk.pk)
    assert risk.inherent_score == 12
    edited = client.post(
        url(org, "risk_detail", pk=risk.pk), {**base, "treatment": "avoid", "residual_impact": "1"}
    )
    assert edited.status_code == 302
    risk.refresh_from_db()
    assert (risk.treatment, risk.residual_score) == ("avoid", 3)


def test_adopt_from_the_library_page_and_delete(org, client_for, manager):
    client = client_for(manager)
    adopted = client.post(url(org, "risk_library"), {"key": "ddos"})
    risk = Risk.objects.for_org(org).get()
    assert adopted["Location"] == url(org, "risk_detail", pk=risk.pk)
    again = client.post(url(org, "risk_library"), {"key": "ddos"}, follow=True)
    assert "in the register already" in again.content.decode()
    page = client.get(url(org, "risk_library")).content.decode()
    assert "In the register" in page
    client.post(url(org, "risk_delete", pk=risk.pk))
    assert Risk.objects.for_org(org).count() == 0


def test_an_expired_acceptance_is_on_the_owners_home(org, add, client_for, manager, reviewer):
    today = timezone.localdate()
    risk = add(
        "Legacy TLS on the status page",
        owner=manager.pk,
        treatment="accept",
        accepted_reason="Retired next quarter",
        accepted_until=today - dt.timedelta(days=1),
        today=today - dt.timedelta(days=30),
    )
    home = client_for(manager).get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Acceptance expired" in home and url(org, "risk_detail", pk=risk.pk) in home
    theirs = client_for(reviewer).get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Acceptance expired" not in theirs
    register = client_for(manager).get(url(org, "risks")).content.decode()
    assert "Acceptance expired" in register
