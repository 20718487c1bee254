"""Browser pages for integrations: API keys and webhook endpoints (owners and admins).

A new key's plaintext and a new endpoint's secret are rendered once in the response to the
POST that created them (never stored, never put in the session or a message) with
``Cache-Control: no-store``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import apikeys, permissions
from tenants.forms_integrations import ApiKeyForm, WebhookEndpointForm
from tenants.permissions import Action
from tenants.views_access import settings_page
from tenants.webhooks import services as webhooks


@require_http_methods(["GET", "POST"])
@settings_page(Action.APIKEY_MANAGE, "API keys")
def api_keys(request: HttpRequest, org_slug: str) -> HttpResponse:
    membership = request.membership
    permissions.require(membership, Action.APIKEY_MANAGE)
    roles = apikeys.grantable_key_roles(membership)
    form = ApiKeyForm(request.POST or None, roles=roles)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key, plaintext = apikeys.api_key_create(membership=membership, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                new_key = {"key": key, "plaintext": plaintext}
                form = ApiKeyForm(roles=roles)
        if new_key is None:
            status = 400
    context = {
        "keys": apikeys.api_keys_list(request.organization),
        "form": form,
        "new_key": new_key,
    }
    response = render(request, "tenants/api_keys.html", context, status=status)
    if new_key is not None:
        add_never_cache_headers(response)
    return response


@require_POST
def api_key_revoke(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.APIKEY_MANAGE)
    key = apikeys.get_api_key_for(request.membership, pk)
    apikeys.api_key_revoke(membership=request.membership, key=key)
    messages.success(request, f"The key {key.name} ({key.prefix}…) no longer works.")
    return redirect("api_keys", org_slug=org_slug)


@require_http_methods(["GET", "POST"])
@settings_page(Action.WEBHOOK_MANAGE, "webhooks")
def webhook_endpoints(request: HttpRequest, org_slug: str) -> HttpResponse:
    membership = request.membership
    permissions.require(membership, Action.WEBHOOK_MANAGE)
    form = WebhookEndpointForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, secret = webhooks.webhook_endpoint_create(
                    membership=membership, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                created = {"endpoint": endpoint, "secret": secret}
                form = WebhookEndpointForm()
        if created is None:
            status = 400
    context = {
        "endpoints": webhooks.endpoints_list(request.organization),
        "deliveries": webhooks.deliveries_recent(request.organization),
        "form": form,
        "created": created,
    }
    response = render(request, "tenants/webhooks.html", context, status=status)
    if created is not None:
        add_never_cache_headers(response)
    return response


@require_POST
def webhook_endpoint_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.WEBHOOK_MANAGE)
    endpoint = webhooks.get_endpoint_for(request.membership, pk)
    webhooks.webhook_endpoint_delete(membership=request.membership, endpoint=endpoint)
    messages.success(request, f"{endpoint.url} receives no more events.")
    return redirect("webhook_endpoints", org_slug=org_slug)


@require_POST
def webhook_endpoint_test(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.WEBHOOK_MANAGE)
    endpoint = webhooks.get_endpoint_for(request.membership, pk)
    webhooks.webhook_send_test(membership=request.membership, endpoint=endpoint)
    messages.success(
        request, f"A test event is on its way to {endpoint.url}; reload to see the delivery."
    )
    return redirect("webhook_endpoints", org_slug=org_slug)
