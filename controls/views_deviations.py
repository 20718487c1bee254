"""Pages to record and delete a control's deviations (compliance managers)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from controls import deviations, selectors
from controls.forms import DeviationForm
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action


@require_http_methods(["GET", "POST"])
def deviation_create(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    control = selectors.control_get_for(request.organization, pk)
    permissions.require(request.membership, Action.CONTROL_MANAGE)
    initial = {k: request.GET.get(k) for k in ("period_start", "period_end") if request.GET.get(k)}
    form = DeviationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deviations.deviation_record(
                membership=request.membership, control=control, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"The deviation of {control.code} was recorded.")
            return redirect("control_detail", org_slug=org_slug, pk=control.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "control": control}
    return render(request, "controls/deviation_form.html", context, status=status)


@require_POST
def deviation_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    deviation = deviations.deviation_get_for(request.organization, pk)
    deviations.deviation_delete(membership=request.membership, deviation=deviation)
    messages.success(request, f"The deviation of {deviation.control.code} was deleted.")
    return redirect("control_detail", org_slug=org_slug, pk=deviation.control_id)
