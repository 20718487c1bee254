"""allauth's SAML ACS finish view, with its one unhandled refusal made ours: an answer whose
``InResponseTo`` matches no sign-in this browser started (a replayed or stolen assertion)
makes allauth raise ``PermissionDenied``; here it is logged and explained like any refusal."""

from __future__ import annotations

from allauth.socialaccount.providers.saml import views as saml_views
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from sso import signin
from tenants.models import Organization


def finish_acs(request: HttpRequest, organization_slug: str) -> HttpResponse:
    try:
        return saml_views.finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        org = Organization.objects.filter(slug=organization_slug).first()
        return signin.refuse(
            request,
            org,
            "This SAML answer matches no sign-in started from this browser (already used, "
            "or replayed): start the sign-in again.",
            reason="replay",
        ).response
