"""Self-assessment API: read the answers of an audit, save some, refusals and personas."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.models import SelfAssessmentAnswer
from tenants.models import Role
from tests.api.conftest import org_url

AS_OF = dt.date(2025, 3, 31)


@pytest.fixture
def audit(org, make_audit):
    return make_audit(org, as_of=AS_OF)


def test_read_and_answer(api, org, audit):
    url = org_url(org, f"audits/{audit.pk}/self-assessment/")
    empty = api.get(url).json()
    assert empty["total"] == 33 and empty["answered"] == 0 and "changed" not in empty
    assert empty["answers"][0] == {
        "criterion": "CC1.1",
        "title": empty["answers"][0]["title"],
        "category": "security",
        "answer": None,
        "notes": "",
        "answered_at": None,
    }
    body = {
        "answers": [
            {"criterion": "cc1.1", "answer": "in_place"},
            {"criterion": "CC1.2", "answer": "not_applicable", "notes": "No board"},
        ]
    }
    saved = api.put(url, body).json()
    assert saved["changed"] == 2 and saved["answered"] == 2
    rows = {a["criterion"]: a for a in saved["answers"]}
    assert rows["CC1.2"]["answer"] == "not_applicable" and rows["CC1.2"]["notes"] == "No board"
    assert api.put(url, body).json()["changed"] == 0  # the same answers change nothing


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([{"criterion": "A1.1", "answer": "in_place"}], "not in this audit's scope"),
        ([{"criterion": "CC1.1", "answer": "not_applicable"}], "Explain why CC1.1"),
        ([{"criterion": "CC1.1", "answer": "maybe"}], "not a valid choice"),
        ([{"criterion": "CC1.1", "answer": "in_place"}] * 2, "Answer each criterion once"),
        ([{"criterion": "CC1.1", "answer": "in_place", "colour": "red"}], "Unknown field"),
        ([], "at least 1"),
    ],
)
def test_refusals(api, org, audit, answers, message):
    response = api.put(org_url(org, f"audits/{audit.pk}/self-assessment/"), {"answers": answers})
    assert response.status_code == 400
    assert message in str(response.json())
    assert not SelfAssessmentAnswer.objects.for_org(org).exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_only_managers_answer(org, audit, make_member, api_for, role):
    client = api_for(make_member(org, role))
    url = org_url(org, f"audits/{audit.pk}/self-assessment/")
    # Auditors read in the auditor portal only: the API refuses them even reads.
    assert client.get(url).status_code == (403 if role == Role.AUDITOR else 200)
    body = {"answers": [{"criterion": "CC1.1", "answer": "in_place"}]}
    assert client.put(url, body).status_code == 403
    assert not SelfAssessmentAnswer.objects.for_org(org).exists()


def test_outsider_gets_404(org, audit, outsider, api_for):
    client = api_for(outsider)
    url = org_url(org, f"audits/{audit.pk}/self-assessment/")
    assert client.get(url).status_code == 404
    body = {"answers": [{"criterion": "CC1.1", "answer": "in_place"}]}
    assert client.put(url, body).status_code == 404
    # Nor through their own organization's URL.
    own = org_url(outsider.organization, f"audits/{audit.pk}/self-assessment/")
    assert client.put(own, body).status_code == 404
    assert not SelfAssessmentAnswer.objects.for_org(org).exists()
