"""Helpers shared by the browser forms."""

from __future__ import annotations

from django import forms

from soc2app.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it concerns (or above the form). A form
    whose field differs from the service's name for it maps them in ``error_fields``."""
    field = getattr(form, "error_fields", {}).get(error.field, error.field)
    field = field if field in form.fields else None
    form.add_error(field, error.message)
