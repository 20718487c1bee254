"""Populations and samples in the browser: the organization's side under
/o/<slug>/reports/audits/<id>/populations/ and the auditor's in the portal (``portal_`` URL
names). One set of views serves both; ``_Side`` says which audit lookup and URL names apply.
Each view validates input, calls ``reports.populations`` / ``reports.samples`` and renders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from controls.models import Audit
from controls.selectors import audit_get_for, control_get_for
from reports import pbc, populations, samples, sampling, selectors, selectors_sampling
from reports.models import Population, SampleMethod, SampleResult
from reports.population_sources import sources
from soc2app.errors import ValidationFailed
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 50


@dataclass(frozen=True)
class _Side:
    portal: bool
    names: dict[str, str]

    def audit(self, request: HttpRequest, audit_pk: str) -> Audit:
        if self.portal:
            return selectors.portal_audit_get(request.membership, audit_pk)
        return audit_get_for(request.organization, audit_pk)

    def url(self, name: str) -> str:
        return self.names[name]


# The URL names each side's templates and redirects use.
ORG = _Side(
    portal=False,
    names={
        "audit": "audit_detail",
        "populations": "population_list",
        "population": "population_detail",
        "population_export": "population_export",
        "sample": "sample_detail",
        "request": "request_detail",
    },
)
PORTAL = _Side(
    portal=True,
    names={
        "audit": "portal_audit",
        "populations": "portal_populations",
        "population": "portal_population",
        "population_export": "portal_population_export",
        "sample": "portal_sample",
        "request": "portal_request",
    },
)


class UploadForm(forms.Form):
    control = forms.TypedChoiceField(coerce=int, label="Control")
    source = forms.ChoiceField(
        choices=[("csv", "Upload a CSV file"), ("evidence", "Build from the control's evidence")],
        initial="csv",
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        required=False,
        label="CSV file",
        help_text="UTF-8, header <code>id,date,description</code>, dates YYYY-MM-DD inside the "
        "window, at most 100,000 rows.",
    )

    def __init__(self, *args: object, controls: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.controls = {c.pk: c for c in controls}
        self.fields["control"].choices = [(c.pk, f"{c.code} {c.title}") for c in controls]
        # Ready-made populations other apps offer (the roster's joiners and leavers).
        self.fields["source"].choices += [(f"source:{s.key}", s.label) for s in sources()]


class DrawForm(forms.Form):
    method = forms.ChoiceField(
        choices=SampleMethod.choices, initial=SampleMethod.SEEDED, widget=forms.RadioSelect
    )
    size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=sampling.MAX_ROWS,
        label="Sample size",
        help_text="Empty: the suggested size. Chosen by hand: the number of ids given.",
    )
    size_reason = forms.CharField(
        required=False,
        max_length=pbc.MAX_TEXT,
        label="Why this size (when not the suggested one)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    seed = forms.CharField(
        required=False, max_length=64, help_text="Leave empty for a random seed (recorded)."
    )
    item_ids = forms.CharField(
        required=False,
        label="Item ids (chosen by hand)",
        help_text="One per line or separated by commas; the size is their number.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redraw_reason = forms.CharField(
        required=False,
        max_length=pbc.MAX_TEXT,
        label="Why draw again",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_date = forms.DateField(
        label="Evidence due by", widget=forms.DateInput(attrs={"type": "date"})
    )


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        choices=[(SampleResult.NO_EXCEPTION, "No exception"), (SampleResult.EXCEPTION, "Exception")]
    )
    note = forms.CharField(required=False, max_length=pbc.MAX_TEXT)


def _populations_page(request: HttpRequest, side: _Side, org_slug: str, audit_pk: str):
    audit = side.audit(request, audit_pk)
    can_supply = not side.portal and permissions.can(request.membership, Action.AUDIT_MANAGE)
    controls = selectors.scope_control_choices(audit) if can_supply and audit.is_type2 else []
    form = UploadForm(request.POST or None, request.FILES or None, controls=controls)
    rejected = None
    if request.method == "POST":
        permissions.require(request.membership, Action.AUDIT_MANAGE)
        if form.is_valid():
            try:
                population = _supply(request, audit, form)
            except populations.PopulationRejected as exc:
                rejected = exc.parsed
            except ValidationFailed as exc:
                add_domain_error(form, exc)
            else:
                return redirect(
                    side.url("population"), org_slug=org_slug, audit_pk=audit.pk, pk=population.pk
                )
    rows = selectors_sampling.populations_for_audit(audit)
    context = {
        "audit": audit,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "form": form if controls else None,
        "rejected": rejected,
        "names": side.names,
        "portal": side.portal,
    }
    status = 400 if form.errors or rejected else 200
    return render(request, "reports/sampling/populations.html", context, status=status)


def _supply(request: HttpRequest, audit: Audit, form: UploadForm) -> Population:
    data = form.cleaned_data
    args = {
        "membership": request.membership,
        "audit": audit,
        # The form's choices carry only code and title: the service needs the whole row.
        "control": control_get_for(request.organization, form.controls[data["control"]].pk),
    }
    if data["source"] == "evidence":
        population = populations.population_from_evidence(**args)
    elif data["source"].startswith("source:"):
        key = data["source"].removeprefix("source:")
        population = populations.population_from_source(**args, key=key)
    else:
        if (problem := upload_problem(request)) is not None:
            raise problem  # too large, or cut off
        upload = data["file"]
        if upload is None:
            raise ValidationFailed("Choose the CSV file.", field="file")
        parsed = sampling.parse_csv(
            upload.read(sampling.MAX_BYTES + 1), window=populations.window(audit)
        )
        population = populations.population_store(
            **args, parsed=parsed, source="csv", source_name=upload.name
        )
        for warning in parsed.warnings[:10]:
            messages.warning(request, warning)
    messages.success(
        request,
        f"Population v{population.version} of {args['control'].code} stored: "
        f"{population.row_count} items.",
    )
    return population


def _population_page(request: HttpRequest, side: _Side, org_slug: str, audit_pk: str, pk: str):
    audit = side.audit(request, audit_pk)
    population = selectors_sampling.population_get(audit, pk)
    drawn = list(selectors_sampling.samples_for_population(population))
    can_draw = permissions.can(request.membership, Action.SAMPLE_DRAW)
    suggested = sampling.suggested_size(population.row_count)
    initial = {
        "size": suggested,
        "due_date": timezone.localdate() + dt.timedelta(days=samples.DEFAULT_DUE_DAYS),
    }
    form = DrawForm(request.POST or None, initial=initial)
    if request.method == "POST":
        permissions.require(request.membership, Action.SAMPLE_DRAW)
        if form.is_valid():
            data = form.cleaned_data
            ids = [i for i in data["item_ids"].replace(",", "\n").split() if i]
            manual = data["method"] == SampleMethod.MANUAL
            try:
                sample = samples.sample_draw(
                    membership=request.membership,
                    population=population,
                    size=None if manual else data["size"],
                    size_reason=data["size_reason"],
                    method=data["method"],
                    seed=data["seed"],
                    item_ids=ids,
                    redraw_reason=data["redraw_reason"],
                    due_date=data["due_date"],
                )
            except ValidationFailed as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Sample {sample.number} drawn: {sample.size} items.")
                return redirect(
                    side.url("sample"), org_slug=org_slug, audit_pk=audit.pk, pk=sample.pk
                )
    items = selectors_sampling.population_items(population)
    context = {
        "audit": audit,
        "population": population,
        "samples": drawn,
        "suggested": suggested,
        "form": form if can_draw else None,
        "page": Paginator(items, PAGE_SIZE).get_page(request.GET.get("page")),
        "names": side.names,
        "portal": side.portal,
    }
    return render(
        request, "reports/sampling/population.html", context, status=400 if form.errors else 200
    )


def _sample_page(request: HttpRequest, side: _Side, org_slug: str, audit_pk: str, pk: str):
    audit = side.audit(request, audit_pk)
    sample = selectors_sampling.sample_get(audit, pk)
    can_test = side.portal and permissions.can(request.membership, Action.SAMPLE_TEST)
    current = selectors_sampling.sample_is_current(sample)
    refusal = None
    if request.method == "POST":
        permissions.require(request.membership, Action.SAMPLE_TEST)
        item = selectors_sampling.sample_item_get(sample, request.POST.get("item", ""))
        form = ResultForm(request.POST)
        if form.is_valid():
            try:
                samples.sample_item_test(
                    membership=request.membership,
                    item=item,
                    result=form.cleaned_data["result"],
                    note=form.cleaned_data["note"],
                )
            except ValidationFailed as exc:
                refusal = f"{item.population_item.item_id}: {exc.message}"
            else:
                messages.success(request, f"{item.population_item.item_id} marked.")
                return redirect(
                    side.url("sample"), org_slug=org_slug, audit_pk=audit.pk, pk=sample.pk
                )
        else:
            refusal = f"{item.population_item.item_id}: choose no exception or exception."
    items = selectors_sampling.sample_items(sample)
    context = {
        "audit": audit,
        "sample": sample,
        "current": current,
        "can_test": can_test and current,
        "refusal": refusal,
        "page": Paginator(items, PAGE_SIZE).get_page(request.GET.get("page")),
        "names": side.names,
        "portal": side.portal,
    }
    return render(request, "reports/sampling/sample.html", context, status=400 if refusal else 200)


def _export(request: HttpRequest, side: _Side, audit_pk: str, pk: str) -> StreamingHttpResponse:
    audit = side.audit(request, audit_pk)
    population = selectors_sampling.population_get(audit, pk)
    response = StreamingHttpResponse(
        selectors_sampling.population_export(population), content_type="text/csv"
    )
    name = selectors_sampling.export_filename(population)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# The organization's side and the portal's: the same pages, different lookups and URL names.


@accepts_uploads
@require_http_methods(["GET", "POST"])
def population_list(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    return _populations_page(request, ORG, org_slug, audit_pk)


@require_http_methods(["GET", "POST"])
def population_detail(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    return _population_page(request, ORG, org_slug, audit_pk, pk)


@require_GET
def population_export(request: HttpRequest, org_slug: str, audit_pk: str, pk: str):
    return _export(request, ORG, audit_pk, pk)


@require_GET
def sample_detail(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    return _sample_page(request, ORG, org_slug, audit_pk, pk)


@require_GET
def portal_populations(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    return _populations_page(request, PORTAL, org_slug, audit_pk)


@require_http_methods(["GET", "POST"])
def portal_population(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    return _population_page(request, PORTAL, org_slug, audit_pk, pk)


@require_GET
def portal_population_export(request: HttpRequest, org_slug: str, audit_pk: str, pk: str):
    return _export(request, PORTAL, audit_pk, pk)


@require_http_methods(["GET", "POST"])
def portal_sample(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    return _sample_page(request, PORTAL, org_slug, audit_pk, pk)
