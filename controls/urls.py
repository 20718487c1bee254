"""An organization's controls, systems and audits under /o/<org_slug>/."""

from __future__ import annotations

from django.urls import path

from controls import views_audits as audits
from controls import views_controls as controls
from controls import views_deviations as deviations

org_urlpatterns = [
    path("controls/", controls.control_list, name="control_list"),
    path("controls/new/", controls.control_create, name="control_create"),
    path("controls/bulk/", controls.control_bulk, name="control_bulk"),
    path("controls/adopt/", controls.control_adopt, name="control_adopt"),
    path("controls/<int:pk>/", controls.control_detail, name="control_detail"),
    path("controls/<int:pk>/edit/", controls.control_edit, name="control_edit"),
    path("controls/<int:pk>/delete/", controls.control_delete, name="control_delete"),
    path(
        "controls/<int:pk>/deviations/new/",
        deviations.deviation_create,
        name="deviation_create",
    ),
    path("deviations/<int:pk>/delete/", deviations.deviation_delete, name="deviation_delete"),
    path("systems/", audits.system_list, name="system_list"),
    path("systems/new/", audits.system_form, name="system_create"),
    path("systems/<int:pk>/", audits.system_form, name="system_edit"),
    path("audits/", audits.audit_list, name="audit_list"),
    path("audits/new/", audits.audit_create, name="audit_create"),
    path("audits/<int:pk>/", audits.audit_detail, name="audit_detail"),
    path("audits/<int:pk>/<slug:step>/", audits.audit_step, name="audit_step"),
    path(
        "audits/<int:pk>/coverage/<int:control_pk>/",
        audits.audit_coverage,
        name="audit_coverage",
    ),
]
