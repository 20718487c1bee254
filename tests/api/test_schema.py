"""The OpenAPI schema documents every organization endpoint: bodies, responses, errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

ORG = "/api/v1/orgs/{organization_slug}/"


@pytest.fixture(scope="module")
def schema() -> dict:
    result = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(result)
    return result


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        if path.startswith(ORG):
            for method, operation in operations.items():
                yield path, method, operation


# Actions that take no body (the URL says it all).
BODILESS = (
    "webhooks/{id}/test/",
    "reports/{id}/retry/",
    "monitoring/connections/{id}/runs/",
    "monitoring/connections/{id}/test/",
    "monitoring/runs/{id}/retry/",
    "risks/assessments/{id}/retry/",
    "policies/{id}/submit/",
    "policies/{id}/approve/",
    "policies/{id}/versions/new/",
    "policies/{id}/acceptance-evidence/",
    "training/{id}/evidence/",
    "people/{id}/anonymise/",
    "checklist-items/{id}/reopen/",
    "trust/requests/{id}/approve/",
    "trust/requests/{id}/deny/",
    "trust/settings/check-domain/",
)
# Actions that answer with a file, not JSON.
FILES = (
    "reports/{id}/download/",
    "evidence/versions/{id}/download/",
    "training-completions/{id}/certificate/",
    "risks/assessments/{id}/pdf/",
    "risk-assessments/{id}/csv/",
    "risk-assessments/{id}/pdf/",
    "documents/{doc_pk}/download/",
)
CSV_FILES = (
    "populations/{id}/export/",
    "risks/assessments/{id}/csv/",
    "risks/export/",
    "vendors/export/",
)


def test_every_organization_endpoint_is_documented(schema):
    paths = {p[len(ORG) :] for p in schema["paths"] if p.startswith(ORG)}
    assert paths == {
        "controls/",
        "controls/{id}/",
        "controls/adopt/",
        "controls/bulk/",
        "controls/{control_pk}/evidence/",
        "deviations/",
        "deviations/{id}/",
        "evidence/versions/{id}/",
        "evidence/versions/{id}/download/",
        "evidence/versions/{id}/review/",
        "systems/",
        "systems/{id}/",
        "audits/",
        "audits/{id}/",
        "audits/{id}/readiness/",
        "audits/{id}/self-assessment/",
        "audits/{audit_pk}/reports/",
        "audits/{audit_pk}/populations/",
        "audits/{audit_pk}/populations/{id}/",
        "audits/{audit_pk}/populations/{id}/items/",
        "audits/{audit_pk}/populations/{id}/export/",
        "audits/{audit_pk}/monitoring/checks/",
        "audits/{audit_pk}/monitoring/checks/{id}/",
        "audits/{audit_pk}/policy-versions/",
        "audits/{audit_pk}/policy-versions/{id}/",
        "audits/{audit_pk}/policy-acceptances/",
        "audits/{audit_pk}/training-requirements/",
        "audits/{audit_pk}/training-completions/",
        "audits/{audit_pk}/training-completions/{id}/certificate/",
        "audits/{audit_pk}/sampled-checklists/",
        "audits/{audit_pk}/samples/",
        "audits/{audit_pk}/samples/{id}/",
        "audits/{audit_pk}/samples/{id}/items/",
        "audits/{audit_pk}/sample-items/{id}/",
        "audits/{audit_pk}/sample-items/{id}/result/",
        "reports/{id}/",
        "reports/{id}/download/",
        "reports/{id}/retry/",
        "webhooks/",
        "webhooks/{id}/",
        "webhooks/{id}/deliveries/",
        "webhooks/{id}/test/",
        "monitoring/connections/",
        "monitoring/connections/{id}/",
        "monitoring/connections/{id}/results/",
        "monitoring/connections/{id}/runs/",
        "monitoring/connections/{id}/test/",
        "monitoring/runs/{id}/",
        "monitoring/runs/{id}/retry/",
        "monitoring/checks/",
        "monitoring/checks/{id}/",
        "monitoring/findings/",
        "monitoring/findings/{id}/",
        "people/",
        "people/{id}/",
        "people/{id}/end/",
        "people/{id}/anonymise/",
        "people/import/",
        "checklist-templates/",
        "checklist-templates/{kind}/",
        "checklists/",
        "checklists/{id}/",
        "checklist-items/{id}/",
        "checklist-items/{id}/done/",
        "checklist-items/{id}/reopen/",
        "policies/",
        "policies/{id}/",
        "policies/library/",
        "policies/{id}/versions/",
        "policies/{id}/versions/new/",
        "policies/{id}/draft/",
        "policies/{id}/submit/",
        "policies/{id}/approve/",
        "policies/{id}/return/",
        "policies/{id}/acceptance-evidence/",
        "training/",
        "training/{id}/",
        "training/{id}/status/",
        "training/{id}/completions/",
        "training/{id}/evidence/",
        "risks/",
        "risks/{id}/",
        "risks/export/",
        "risks/adopt/",
        "risks/library/",
        "risks/matrix/",
        "risks/assessments/",
        "risks/assessments/{id}/",
        "risks/assessments/{id}/retry/",
        "risks/assessments/{id}/csv/",
        "risks/assessments/{id}/pdf/",
        "vendors/",
        "vendors/{id}/",
        "vendors/{id}/documents/",
        "vendors/{id}/reviews/",
        "vendors/rules/",
        "sso/",
        "vendors/import/",
        "vendors/export/",
        # An audit's risk register and vendors (the auditor portal's reads).
        "audits/{audit_pk}/risks/",
        "audits/{audit_pk}/risks/{id}/",
        "audits/{audit_pk}/risks/export/",
        "audits/{audit_pk}/risk-assessments/",
        "audits/{audit_pk}/risk-assessments/{id}/",
        "audits/{audit_pk}/risk-assessments/{id}/csv/",
        "audits/{audit_pk}/risk-assessments/{id}/pdf/",
        "audits/{audit_pk}/vendors/",
        "audits/{audit_pk}/vendors/{id}/",
        "audits/{audit_pk}/vendors/{id}/documents/",
        "audits/{audit_pk}/vendors/{id}/documents/{doc_pk}/download/",
        "audits/{audit_pk}/vendors/{id}/reviews/",
        "audits/{audit_pk}/vendors/export/",
        # The trust center's settings, controls shown, documents and requests.
        "trust/settings/",
        "trust/settings/check-domain/",
        "trust/controls/",
        "trust/documents/",
        "trust/documents/{id}/",
        "trust/requests/",
        "trust/requests/{id}/approve/",
        "trust/requests/{id}/deny/",
    }


def test_bodies_responses_and_errors(schema):
    error = {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    for path, method, operation in _operations(schema):
        where = f"{method} {path}"
        responses = operation["responses"]
        for status in ("400", "401", "403", "404"):
            assert responses[status]["content"]["application/json"]["schema"] == error, where
        if method in ("post", "put", "patch") and path.endswith(BODILESS):
            assert "requestBody" not in operation, where
        elif method in ("post", "put", "patch"):
            assert operation["requestBody"]["content"], where
            assert "415" in responses and "413" in responses, where
        success = [s for s in responses if s.startswith("2")]
        assert len(success) == 1, where
        if path.endswith(FILES):
            assert "application/pdf" in responses[success[0]]["content"], where
        elif path.endswith(CSV_FILES):
            assert "text/csv" in responses[success[0]]["content"], where
        elif method != "delete":
            assert responses[success[0]]["content"]["application/json"]["schema"], where
        assert operation.get("summary"), where
        slug = next(p for p in operation["parameters"] if p["name"] == "organization_slug")
        assert "slug" in slug["description"]


def test_evidence_upload_documents_multipart_and_json(schema):
    body = schema["paths"][f"{ORG}controls/{{control_pk}}/evidence/"]["post"]["requestBody"]
    assert set(body["content"]) == {"multipart/form-data", "application/json"}
    push = schema["components"]["schemas"]["EvidencePushRequest"]
    assert push["discriminator"]["propertyName"] == "kind"
    file_in = schema["components"]["schemas"]["FileInRequest"]
    assert file_in["properties"]["file"]["format"] == "binary"


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn: an endpoint whose types drf-spectacular has to guess fails this test.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def _ok_body(schema: dict, path: str) -> dict:
    return schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_a_single_resource_is_one_object_not_a_list(schema):
    """(CI's schemathesis stage checks every response against these; it caught both.)"""
    assert _ok_body(schema, ORG + "sso/") == {"$ref": "#/components/schemas/SsoStatusOut"}


def test_the_portal_lists_a_vendors_documents_as_documents(schema):
    body = _ok_body(schema, ORG + "audits/{audit_pk}/vendors/{id}/documents/")
    page = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert page["properties"]["results"]["items"] == {
        "$ref": "#/components/schemas/VendorDocumentOut"
    }


def test_the_trust_settings_show_the_custom_domains_record(schema):
    settings_out = schema["components"]["schemas"]["TrustSettingsOut"]
    for name in ("domain_record_name", "domain_record_value", "domain_verified_at"):
        assert name in settings_out["required"], name
    assert settings_out["properties"]["domain_verified_at"]["nullable"] is True
    check = schema["paths"][ORG + "trust/settings/check-domain/"]["post"]
    ok = check["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/TrustSettingsOut"}
    assert "requestBody" not in check
