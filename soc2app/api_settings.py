"""Django REST framework and drf-spectacular settings (imported by ``soc2app.settings``).

Fixed configuration of the API (authentication order, pagination, filters, errors, the OpenAPI
document); nothing here is read from the environment (``API_KEY_RATE`` is, in settings).
Plain values only: this module is imported while settings load.
"""

REST_FRAMEWORK = {
    # Bearer first: its challenge makes unauthenticated API calls 401 rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "soc2app.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["soc2app.api.permissions.IsAuthenticatedOrApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["soc2app.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "soc2app.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "soc2app.api.filtering.FilterBackend",
        "soc2app.api.filtering.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "soc2app.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SOC 2 Readiness API",
    "DESCRIPTION": "Criteria, controls, evidence, audits and readiness for one organization.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]",
    # Request bodies get their own components, so file fields are documented as binary uploads.
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the one error shape (soc2app/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "soc2app.api.schema.add_error_responses",
    ],
    # Several choice sets share a field name (status, kind): name each enum explicitly.
    "ENUM_NAME_OVERRIDES": {
        "ControlStatusEnum": "controls.models.ControlStatus",
        "AuditStatusEnum": "controls.models.AuditStatus",
        "CriterionStatusEnum": "controls.readiness.Status",
        "PeriodStatusEnum": "controls.periods.PeriodStatus",
        "EvidenceKindEnum": "evidence.models.EvidenceKind",
        "ReportKindEnum": "reports.models.ReportKind",
        "ReportStatusEnum": "reports.models.ReportStatus",
        "RiskAssessmentStatusEnum": "risks.models_assessment.AssessmentStatus",
        "FileKindEnum": ["file"],
        "LinkKindEnum": ["link"],
        "DataKindEnum": ["data"],
        "ConnectionKindEnum": "monitoring.models.ConnectionKind",
        "ChecklistKindEnum": "people.models_checklists.ChecklistKind",
        # Monitoring's severity and a vendor's criticality are the same four levels.
        "SeverityEnum": "monitoring.models.Severity",
        "VendorDocumentKindEnum": "vendors.models.DocumentKind",
        "VendorDecisionEnum": "vendors.models.Decision",
    },
}
