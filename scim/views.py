"""Settings → Provisioning (owners only): SCIM tokens, the default role, the personnel switch
and the SCIM base URL to copy into the identity provider.

A new token's plaintext is rendered once in the response to the POST that created it (never
stored, never put in the session) with ``Cache-Control: no-store``, as for API keys.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from scim import services, tokens
from scim.forms import ProvisioningSettingsForm, ScimTokenForm
from scim.selectors import provisioning_settings
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action
from tenants.views_access import settings_page


@require_http_methods(["GET", "POST"])
@settings_page(Action.SCIM_MANAGE, "provisioning")
def provisioning(request: HttpRequest, org_slug: str) -> HttpResponse:
    membership = request.membership
    permissions.require(membership, Action.SCIM_MANAGE)
    current = provisioning_settings(request.organization)
    initial = {"default_role": current.default_role, "manage_personnel": current.manage_personnel}
    action = request.POST.get("form") if request.method == "POST" else None
    token_form = ScimTokenForm(request.POST if action == "token" else None)
    settings_form = ProvisioningSettingsForm(
        request.POST if action == "settings" else None, initial=initial
    )
    new_token = None
    status = 200
    if action == "token" and token_form.is_valid():
        try:
            token, plaintext = tokens.scim_token_create(
                membership=membership, name=token_form.cleaned_data["name"]
            )
        except DomainError as exc:
            add_domain_error(token_form, exc)
        else:
            new_token = {"token": token, "plaintext": plaintext}
            token_form = ScimTokenForm()
    elif action == "settings" and settings_form.is_valid():
        try:
            services.provisioning_settings_update(
                membership=membership, **settings_form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(settings_form, exc)
        else:
            messages.success(request, "Provisioning settings saved.")
            return redirect("scim_provisioning", org_slug=org_slug)
    if action is not None and new_token is None:
        status = 400
    context = {
        "tokens": tokens.scim_tokens_list(request.organization),
        "token_form": token_form,
        "settings_form": settings_form,
        "new_token": new_token,
        "base_url": request.build_absolute_uri(f"/scim/v2/{request.organization.slug}/"),
    }
    response = render(request, "scim/provisioning.html", context, status=status)
    if new_token is not None:
        add_never_cache_headers(response)
    return response


@require_POST
def token_revoke(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.SCIM_MANAGE)
    token = tokens.get_scim_token_for(request.membership, pk)
    tokens.scim_token_revoke(membership=request.membership, token=token)
    messages.success(request, f"The token {token.name} ({token.prefix}…) no longer works.")
    return redirect("scim_provisioning", org_slug=org_slug)
