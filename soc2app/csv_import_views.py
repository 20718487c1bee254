"""The browser side of the CSV imports whose previews wait in ``soc2app.csv_pending`` (the
roster, the vendors): one flow, upload → preview → confirm.

- Upload reads the file (one byte over the importer's limit, so the importer can say it is too
  large), plans it and shows the preview; nothing is written. A file without a problem is held
  under a token for this organization and user only.
- Confirm imports what was previewed, exactly (the file's SHA-256 travels with the token). A
  preview that expired, or a token of another user, organization or import, names nothing:
  the upload page says to upload the file again. When the data changed since the preview so
  that the file now breaks a rule, the preview is shown again with the problems.

Each import describes itself with an ``ImportPages`` (its importer, form, templates and URL
names) and routes its URLs to the three views ``views()`` makes. The templates extend
``csv_import/upload.html`` and ``csv_import/preview.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from soc2app import csv_pending as pending
from soc2app.csv_import import ImportRejected
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.permissions import Action


class Plan(Protocol):
    """What an importer's ``plan_import`` and ``import_apply`` return."""

    ok: bool
    sha256: str
    errors: list
    error_count: int
    to_create: list
    to_update: list
    unchanged: int


@dataclass(frozen=True)
class ImportPages:
    kind: (
        str  # its previews in soc2app.csv_pending (a token of one import names nothing in another)
    )
    action: Action  # who may import
    form: type[forms.Form]  # the upload form, with a ``file`` field
    max_bytes: int
    plan: Callable[[HttpRequest, bytes], Plan]  # what the file would do; writes nothing
    apply: Callable[..., Plan]  # import_apply(membership=, data=, name=); may raise ImportRejected
    upload_template: str
    preview_template: str
    upload_url: str  # URL names: the upload page, the confirm form's target, the list
    confirm_url: str
    done_url: str
    example: Callable[[], str]  # a CSV file to start from, and its download's name
    example_name: str
    # The upload page's facts (columns, row limit) and the preview's rows of this import.
    upload_context: dict[str, Any] = field(default_factory=dict)
    preview_rows: Callable[[Plan], dict[str, Any]] = lambda plan: {}
    # What else the import did, said after the counts (" 2 next review dates moved ...").
    done_note: Callable[[Plan], str] = lambda plan: ""

    def views(self) -> tuple[Callable[..., HttpResponse], ...]:
        """The upload, confirm and example-file views."""

        @accepts_uploads  # read by the request body limits, from the view itself
        @require_http_methods(["GET", "POST"])
        def import_upload(request: HttpRequest, org_slug: str) -> HttpResponse:
            return self.upload(request)

        @require_POST
        def import_confirm(request: HttpRequest, org_slug: str) -> HttpResponse:
            return self.confirm(request)

        def import_example(request: HttpRequest, org_slug: str) -> HttpResponse:
            permissions.require(request.membership, self.action)
            response = HttpResponse(self.example(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{self.example_name}"'
            return response

        return import_upload, import_confirm, import_example

    def upload(self, request: HttpRequest) -> HttpResponse:
        """Upload a file and see what it would do; nothing is written here."""
        permissions.require(request.membership, self.action)
        form = self.form(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            if (problem := upload_problem(request)) is not None:
                add_domain_error(form, problem)
            else:
                upload = form.cleaned_data["file"]
                data = upload.read(self.max_bytes + 1)
                plan = self.plan(request, data)
                token = None
                if plan.ok:
                    token = pending.pending_put(
                        **self._scope(request), data=data, name=upload.name or ""
                    )
                return self._preview(request, plan, token, upload.name or "")
        status = 400 if form.is_bound and form.errors else 200
        context = {"form": form, **self._urls(), **self.upload_context}
        return render(request, self.upload_template, context, status=status)

    def confirm(self, request: HttpRequest) -> HttpResponse:
        """Import the previewed file; back to the upload page when its preview is gone."""
        permissions.require(request.membership, self.action)
        org_slug = request.organization.slug
        token = request.POST.get("token", "")
        held = pending.pending_get(**self._scope(request), token=token)
        if held is None or held.sha256 != request.POST.get("sha256", ""):
            messages.error(request, "This preview has expired: upload the file again.")
            return redirect(self.upload_url, org_slug=org_slug)
        try:
            plan = self.apply(membership=request.membership, data=held.data, name=held.name)
        except ImportRejected as exc:  # the data changed since the preview
            return self._preview(request, exc.plan, None, held.name)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(self.upload_url, org_slug=org_slug)
        pending.pending_drop(**self._scope(request), token=token)
        messages.success(
            request,
            f"Imported {held.name or 'the file'}: {len(plan.to_create)} added, "
            f"{len(plan.to_update)} updated, {plan.unchanged} unchanged.{self.done_note(plan)}",
        )
        return redirect(self.done_url, org_slug=org_slug)

    def _scope(self, request: HttpRequest) -> dict[str, Any]:
        return {"kind": self.kind, "org_id": request.organization.pk, "user_id": request.user.pk}

    def _urls(self) -> dict[str, str]:
        return {
            "upload_url": self.upload_url,
            "confirm_url": self.confirm_url,
            "done_url": self.done_url,
        }

    def _preview(
        self, request: HttpRequest, plan: Plan, token: str | None, name: str
    ) -> HttpResponse:
        context = {
            "plan": plan,
            "token": token,
            "name": name,
            "create_count": len(plan.to_create),
            "update_count": len(plan.to_update),
            "more_errors": plan.error_count - len(plan.errors),
            **self._urls(),
            **self.preview_rows(plan),
        }
        status = 200 if plan.ok else 400
        return render(request, self.preview_template, context, status=status)
