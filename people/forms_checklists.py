"""Forms of the checklist pages: the list's filters, marking an item done, and a template's
items (a formset: add a row, tick "remove", renumber "order" to reorder)."""

from __future__ import annotations

from typing import Any

from django import forms

from people import checklist_rules as rules
from people.forms import DateInput
from people.models_checklists import ChecklistKind
from people.selectors_checklists import ChecklistFilter, ChecklistState


class ChecklistFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "Joiners and leavers"), *ChecklistKind.choices]
    )
    state = forms.ChoiceField(required=False, choices=ChecklistState.CHOICES, label="Show")
    late = forms.BooleanField(required=False, label="Only with late items")

    def filters(self) -> ChecklistFilter:
        if not self.is_valid():
            return ChecklistFilter()
        data = self.cleaned_data
        return ChecklistFilter(
            kind=data["kind"], state=data["state"] or ChecklistState.OPEN, late=data["late"]
        )


class ItemDoneForm(forms.Form):
    done_on = forms.DateField(label="Done on", widget=DateInput)
    note = forms.CharField(required=False, max_length=rules.NOTE_MAX, label="Note")
    evidence_file = forms.FileField(required=False, label="Evidence file")
    evidence_version = forms.IntegerField(
        required=False, min_value=1, label="Or an evidence version's id", widget=forms.HiddenInput
    )


class TemplateItemForm(forms.Form):
    title = forms.CharField(max_length=rules.TITLE_MAX)
    description = forms.CharField(required=False, max_length=rules.NOTE_MAX)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    due_days = forms.IntegerField(
        min_value=rules.DUE_MIN,
        max_value=rules.DUE_MAX,
        initial=0,
        label="Due (days after the date; negative: before)",
    )
    business_days = forms.BooleanField(required=False, label="Business days")
    control = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    evidence_required = forms.BooleanField(required=False, label="Evidence required")

    def __init__(self, *args: Any, owners=(), controls=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody yet"), *owners]
        self.fields["control"].choices = [("", "No control"), *controls]


TemplateItemFormSet = forms.formset_factory(
    TemplateItemForm, extra=1, can_delete=True, can_order=True, max_num=rules.MAX_ITEMS
)


def formset_items(formset: Any) -> list[dict[str, Any]]:
    """The kept rows, in their order, as the template service takes them."""
    rows = []
    for form in formset.ordered_forms:
        if not form.has_changed() and not form.initial:
            continue
        data = form.cleaned_data
        rows.append(
            {
                "title": data["title"],
                "description": data.get("description", ""),
                "owner": data.get("owner"),
                "due_days": data["due_days"],
                "business_days": data.get("business_days", False),
                "control": data.get("control"),
                "evidence_required": data.get("evidence_required", False),
            }
        )
    return rows
