"""Single sign-on's reads for the settings page: the connection, its domains, the owners who
may be the break-glass account, and what to copy into the identity provider."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from sso.apps_config import oidc_provider_id
from sso.models import SsoConnection, SsoDomain
from tenants.models import Membership, Organization, Role


@dataclass(frozen=True)
class ServiceProviderInfo:
    """What the owner copies into the identity provider."""

    saml_entity_id: str
    saml_acs_url: str
    saml_metadata_url: str
    oidc_redirect_uri: str


def connection_for(org: Organization) -> SsoConnection | None:
    return SsoConnection.objects.for_org(org).select_related("break_glass__user").first()


def domains_of(org: Organization) -> QuerySet[SsoDomain]:
    return SsoDomain.objects.for_org(org).order_by("domain")


def owners_of(org: Organization) -> list[Membership]:
    return list(
        Membership.objects.for_org(org)
        .filter(role=Role.OWNER)
        .select_related("user")
        .order_by("user__email")
    )


def service_provider_info(request: HttpRequest, org: Organization) -> ServiceProviderInfo:
    metadata = request.build_absolute_uri(
        reverse("saml_metadata", kwargs={"organization_slug": org.slug})
    )
    return ServiceProviderInfo(
        # allauth's default SP entity id is the metadata URL.
        saml_entity_id=metadata,
        saml_acs_url=request.build_absolute_uri(
            reverse("saml_acs", kwargs={"organization_slug": org.slug})
        ),
        saml_metadata_url=metadata,
        oidc_redirect_uri=request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": oidc_provider_id(org.slug)})
        ),
    )


def domain_verified_for(org: Organization, email: str) -> bool:
    """Whether ``email``'s domain is one ``org`` has verified (its identity provider speaks
    for the addresses there)."""
    domain = email.rpartition("@")[2].strip().lower()
    return bool(domain) and (
        SsoDomain.objects.for_org(org)
        .filter(domain__iexact=domain, verified_at__isnull=False)
        .exists()
    )
