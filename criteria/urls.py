from django.urls import path

from controls import views as control_views
from criteria import views

# Mounted under /o/<org_slug>/catalog/.
org_urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("criteria/<str:ref>/", views.criterion_detail, name="criterion_detail"),
    path("oscal.json", views.oscal_download, name="catalog_oscal"),
    path("library/", control_views.library, name="library"),
    path("library/<str:code>/", control_views.template_detail, name="template_detail"),
]
