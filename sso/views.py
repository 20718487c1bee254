"""Settings → Single sign-on (owners change it; admins read it) and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from sso import domains, idp_checks, selectors, services
from sso.forms import DomainForm, KindForm, OidcForm, PolicyForm, SamlForm, VerifyForm
from sso.models import ConnectionKind
from sso.signin import MODE_TEST
from sso.start import start
from tenants import permissions
from tenants.permissions import Action
from tenants.views_access import settings_page


def _page(request: HttpRequest, status: int = 200, **forms: object) -> HttpResponse:
    org = request.organization
    connection = selectors.connection_for(org)
    owners = selectors.owners_of(org)
    initial_oidc = initial_saml = None
    if connection is not None:
        initial_oidc = {
            "oidc_issuer": connection.oidc_issuer,
            "oidc_client_id": connection.oidc_client_id,
        }
        initial_saml = {
            "saml_metadata_url": connection.saml_metadata_url,
            "saml_metadata_xml": connection.saml_metadata_xml,
        }
    policy_initial = {
        "require_sso": bool(connection and connection.require_sso),
        "break_glass": connection.break_glass_id if connection else None,
        "allow_jit": bool(connection and connection.allow_jit),
    }
    context = {
        "connection": connection,
        "domains": list(selectors.domains_of(org)),
        "sp": selectors.service_provider_info(request, org),
        "can_manage": permissions.can(request.membership, Action.SSO_MANAGE),
        "oidc_form": forms.get("oidc_form") or OidcForm(initial=initial_oidc),
        "saml_form": forms.get("saml_form") or SamlForm(initial=initial_saml),
        "domain_form": forms.get("domain_form") or DomainForm(),
        "policy_form": forms.get("policy_form")
        or PolicyForm(initial=policy_initial, owners=owners),
        "well_known_path": domains.WELL_KNOWN_PATH,
        "token_prefix": domains.TOKEN_PREFIX,
        "kinds": ConnectionKind,
    }
    return render(request, "sso/settings.html", context, status=status)


@require_http_methods(["GET"])
@settings_page(Action.ORG_MANAGE, "the single sign-on settings")
def sso_settings(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _page(request)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_configure(request: HttpRequest, org_slug: str) -> HttpResponse:
    kind_form = KindForm(request.POST)
    kind = kind_form.cleaned_data["kind"] if kind_form.is_valid() else None
    form = OidcForm(request.POST) if kind == ConnectionKind.OIDC else SamlForm(request.POST)
    key = "oidc_form" if kind == ConnectionKind.OIDC else "saml_form"
    if kind is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if kind == ConnectionKind.OIDC:
                services.connection_configure_oidc(
                    membership=request.membership,
                    issuer=data["oidc_issuer"],
                    client_id=data["oidc_client_id"],
                    client_secret=data["oidc_client_secret"],
                )
            else:
                services.connection_configure_saml(
                    membership=request.membership,
                    metadata_url=data["saml_metadata_url"],
                    metadata_xml=data["saml_metadata_xml"],
                )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Connection saved. Test it before enabling it.")
            return redirect("sso_settings", org_slug=org_slug)
    return _page(request, status=400, **{key: form})


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_test(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Reads the IdP's discovery document (OIDC) again, then sends the owner through a test
    sign-in that comes back here without signing anyone in."""
    org = request.organization
    connection = selectors.connection_for(org)
    if connection is None:
        messages.error(request, "Configure the connection first.")
        return redirect("sso_settings", org_slug=org_slug)
    if connection.kind == ConnectionKind.OIDC:
        try:
            idp_checks.check_oidc_discovery(connection.oidc_issuer)
        except DomainError as exc:
            messages.error(request, f"Test failed: {exc.message}")
            return redirect("sso_settings", org_slug=org_slug)
    return start(request, org, connection, mode=MODE_TEST, login_hint=request.user.email)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_enable(request: HttpRequest, org_slug: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    try:
        services.connection_set_enabled(membership=request.membership, enabled=enabled)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Single sign-on enabled." if enabled else "Single sign-on disabled."
        )
    return redirect("sso_settings", org_slug=org_slug)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_policy(request: HttpRequest, org_slug: str) -> HttpResponse:
    form = PolicyForm(request.POST, owners=selectors.owners_of(request.organization))
    if form.is_valid():
        try:
            services.policy_set(membership=request.membership, **form.cleaned_data_for_service())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            note = ""
            if form.cleaned_data["require_sso"]:
                note = (
                    " Members whose session was not signed in through single sign-on are sent "
                    "to it from their next page."
                )
            messages.success(request, f"Sign-in policy saved.{note}")
            return redirect("sso_settings", org_slug=org_slug)
    return _page(request, status=400, policy_form=form)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_domain_add(request: HttpRequest, org_slug: str) -> HttpResponse:
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            row = services.domain_add(
                membership=request.membership, domain=form.cleaned_data["domain"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{row.domain} added: publish its token, then verify it.")
            return redirect("sso_settings", org_slug=org_slug)
    return _page(request, status=400, domain_form=form)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_domain_verify(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    form = VerifyForm(request.POST)
    method = form.cleaned_data["method"] if form.is_valid() else ""
    try:
        row = services.domain_verify(membership=request.membership, domain_id=pk, method=method)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{row.domain} is verified.")
    return redirect("sso_settings", org_slug=org_slug)


@require_POST
@settings_page(Action.SSO_MANAGE, "the single sign-on settings")
def sso_domain_remove(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    services.domain_remove(membership=request.membership, domain_id=pk)
    messages.success(request, "Domain removed.")
    return redirect("sso_settings", org_slug=org_slug)
