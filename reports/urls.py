"""Report pages, mounted under /o/<org_slug>/reports/."""

from __future__ import annotations

from django.urls import path

from reports import (
    views,
    views_answer,
    views_portal,
    views_portal_monitoring,
    views_portal_people,
    views_portal_risks,
    views_portal_vendors,
    views_requests,
    views_sampling,
)

org_urlpatterns = [
    path("audits/<int:audit_pk>/", views.report_list, name="report_list"),
    path("audits/<int:audit_pk>/new/", views.report_request, name="report_request"),
    path("<int:pk>/status/", views.report_status, name="report_status"),
    path("<int:pk>/retry/", views.report_retry, name="report_retry"),
    path("<int:pk>/download/", views.report_download, name="report_download"),
    path(
        "audits/<int:audit_pk>/auditors/",
        views_portal.auditor_access_grant,
        name="auditor_access_grant",
    ),
    path("audits/<int:audit_pk>/requests/", views_requests.request_list, name="request_list"),
    path(
        "audits/<int:audit_pk>/requests/<int:pk>/",
        views_answer.request_detail,
        name="request_detail",
    ),
    path(
        "audits/<int:audit_pk>/requests/<int:pk>/evidence/",
        views_answer.request_answer_evidence,
        name="request_answer_evidence",
    ),
    path(
        "audits/<int:audit_pk>/populations/",
        views_sampling.population_list,
        name="population_list",
    ),
    path(
        "audits/<int:audit_pk>/populations/<int:pk>/",
        views_sampling.population_detail,
        name="population_detail",
    ),
    path(
        "audits/<int:audit_pk>/populations/<int:pk>/export/",
        views_sampling.population_export,
        name="population_export",
    ),
    path(
        "audits/<int:audit_pk>/samples/<int:pk>/",
        views_sampling.sample_detail,
        name="sample_detail",
    ),
    path(
        "auditor-access/<int:pk>/revoke/",
        views_portal.auditor_access_revoke,
        name="auditor_access_revoke",
    ),
]

# The auditor portal, mounted under /o/<org_slug>/portal/. Every URL name starts with
# ``portal_``: the only organization pages an auditor membership may open (TenantMiddleware).
portal_urlpatterns = [
    path("", views_portal.portal_home, name="portal_home"),
    path("audits/<int:audit_pk>/", views_portal.portal_audit, name="portal_audit"),
    path(
        "audits/<int:audit_pk>/tests/",
        views_portal_monitoring.portal_tests,
        name="portal_tests",
    ),
    path(
        "audits/<int:audit_pk>/tests/<int:pk>/",
        views_portal_monitoring.portal_test,
        name="portal_test",
    ),
    path(
        "audits/<int:audit_pk>/controls/<int:pk>/",
        views_portal.portal_control,
        name="portal_control",
    ),
    path(
        "audits/<int:audit_pk>/evidence/<int:pk>/",
        views_portal.portal_evidence_item,
        name="portal_evidence_item",
    ),
    path(
        "audits/<int:audit_pk>/versions/<int:pk>/download/",
        views_portal.portal_version_download,
        name="portal_version_download",
    ),
    path(
        "audits/<int:audit_pk>/requests/",
        views_requests.portal_requests,
        name="portal_requests",
    ),
    path(
        "audits/<int:audit_pk>/requests/<int:pk>/",
        views_requests.portal_request,
        name="portal_request",
    ),
    path(
        "audits/<int:audit_pk>/populations/",
        views_sampling.portal_populations,
        name="portal_populations",
    ),
    path(
        "audits/<int:audit_pk>/populations/<int:pk>/",
        views_sampling.portal_population,
        name="portal_population",
    ),
    path(
        "audits/<int:audit_pk>/populations/<int:pk>/export/",
        views_sampling.portal_population_export,
        name="portal_population_export",
    ),
    path(
        "audits/<int:audit_pk>/samples/<int:pk>/",
        views_sampling.portal_sample,
        name="portal_sample",
    ),
    path(
        "audits/<int:audit_pk>/people/",
        views_portal_people.portal_people,
        name="portal_people",
    ),
    path(
        "audits/<int:audit_pk>/people/policy-versions/<int:pk>/",
        views_portal_people.portal_policy_version,
        name="portal_policy_version",
    ),
    path(
        "audits/<int:audit_pk>/people/policy-versions/<int:pk>/pdf/",
        views_portal_people.portal_policy_version_pdf,
        name="portal_policy_version_pdf",
    ),
    path(
        "audits/<int:audit_pk>/people/acceptances/",
        views_portal_people.portal_acceptances,
        name="portal_acceptances",
    ),
    path(
        "audits/<int:audit_pk>/people/training/<int:pk>/",
        views_portal_people.portal_training,
        name="portal_training",
    ),
    path(
        "audits/<int:audit_pk>/people/certificates/<int:pk>/",
        views_portal_people.portal_certificate,
        name="portal_certificate",
    ),
    path(
        "audits/<int:audit_pk>/people/checklists/",
        views_portal_people.portal_checklists,
        name="portal_checklists",
    ),
    path("audits/<int:audit_pk>/risks/", views_portal_risks.portal_risks, name="portal_risks"),
    path(
        "audits/<int:audit_pk>/risks/<int:pk>/",
        views_portal_risks.portal_risk,
        name="portal_risk",
    ),
    path(
        "audits/<int:audit_pk>/risk-assessments/",
        views_portal_risks.portal_risk_assessments,
        name="portal_risk_assessments",
    ),
    path(
        "audits/<int:audit_pk>/risk-assessments/<int:pk>/<str:kind>/",
        views_portal_risks.portal_risk_assessment_file,
        name="portal_risk_assessment_file",
    ),
    path(
        "audits/<int:audit_pk>/vendors/",
        views_portal_vendors.portal_vendors,
        name="portal_vendors",
    ),
    path(
        "audits/<int:audit_pk>/vendors/<int:pk>/",
        views_portal_vendors.portal_vendor,
        name="portal_vendor",
    ),
    path(
        "audits/<int:audit_pk>/vendors/<int:pk>/documents/<int:doc_pk>/",
        views_portal_vendors.portal_vendor_document,
        name="portal_vendor_document",
    ),
    path(
        "audits/<int:audit_pk>/reports/<int:pk>/download/",
        views_portal.portal_report_download,
        name="portal_report_download",
    ),
]
