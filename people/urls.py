"""Roster pages under /o/<org_slug>/people/, checklist pages under /o/<org_slug>/checklists/."""

from __future__ import annotations

from django.urls import path

from people import views, views_anonymise, views_checklists, views_import, views_suggest

org_urlpatterns = [
    path("", views.roster, name="people"),
    path("new/", views.person_new, name="person_new"),
    path("import/", views_import.import_upload, name="people_import"),
    path("import/confirm/", views_import.import_confirm, name="people_import_confirm"),
    path("import/example.csv", views_import.import_example, name="people_import_example"),
    path("suggest/", views_suggest.people_suggest, name="people_suggest"),
    path("past-retention/", views_anonymise.anonymise_due, name="people_anonymise_due"),
    path("<str:pk>/", views.person_detail, name="person_detail"),
    path("<str:pk>/edit/", views.person_edit, name="person_edit"),
    path("<str:pk>/end/", views.person_end, name="person_end"),
    path("<str:pk>/delete/", views.person_delete, name="person_delete"),
    path("<str:pk>/anonymise/", views_anonymise.person_anonymise, name="person_anonymise"),
]

checklist_urlpatterns = [
    path("", views_checklists.checklist_list, name="checklists"),
    path("mine/", views_checklists.my_items, name="checklist_mine"),
    path("templates/<str:kind>/", views_checklists.checklist_template, name="checklist_template"),
    path("items/<str:pk>/done/", views_checklists.item_done, name="checklist_item_done"),
    path("items/<str:pk>/reopen/", views_checklists.item_reopen, name="checklist_item_reopen"),
]
