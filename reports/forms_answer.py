"""Forms of the answer to a request for information: the chosen versions and the note, the
evidence search, and new evidence added on the spot. They parse input; the services decide."""

from __future__ import annotations

from django import forms

from controls.models import Control
from reports import pbc
from reports.answer_evidence import STATE_CHOICES, EvidenceFilter


class AnswerForm(forms.Form):
    # The chosen versions come as checkboxes named "versions" (rendered by the picker, since
    # the chosen ones may be on no page of the current search); the service checks them.
    versions = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    note = forms.CharField(
        label="Note to the auditor",
        max_length=pbc.MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvidenceSearchForm(forms.Form):
    """Only renders the search inputs with the current values; ``EvidenceFilter`` parses."""

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Title or file name", "autocomplete": "off"}
        ),
    )
    control = forms.ChoiceField(label="Control", required=False)
    state = forms.ChoiceField(label="State", required=False, choices=STATE_CHOICES)
    start = forms.DateField(
        label="Period from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="Period to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    older = forms.BooleanField(label="Earlier versions too", required=False)

    def __init__(self, wanted: EvidenceFilter, *, controls: list[Control]) -> None:
        super().__init__(
            initial={
                "q": wanted.q,
                "control": wanted.control or "",
                "state": wanted.state,
                "start": wanted.start,
                "end": wanted.end,
                "older": wanted.older,
            }
        )
        self.fields["control"].choices = [("", "Any control")] + [
            (c.pk, f"{c.code} {c.title}") for c in controls
        ]
        self.fields["older"].widget.attrs["value"] = "1"


class NewEvidenceForm(forms.Form):
    """New evidence for one of the audit's controls, sent with the answer (prefix ``new``)."""

    control = forms.TypedChoiceField(label="Control", coerce=int, required=False)
    title = forms.CharField(
        label="Title",
        max_length=200,
        required=False,
        help_text="Defaults to the file name or link.",
    )
    file = forms.FileField(label="File", required=False, allow_empty_file=True)
    url = forms.CharField(
        label="or a link",
        max_length=2100,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    effective_start = forms.DateField(
        label="Demonstrates (date or first day)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    effective_end = forms.DateField(
        label="Last day (for a period)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: object, controls: list[Control], **kwargs: object) -> None:
        super().__init__(*args, prefix="new", **kwargs)
        self.controls = {c.pk: c for c in controls}
        self.fields["control"].choices = [(c.pk, f"{c.code} {c.title}") for c in controls]

    @property
    def wanted(self) -> bool:
        """Did the person add a file or a link? (Otherwise the section is ignored.)"""
        if not self.is_bound:
            return False
        return bool(self.files.get("new-file") or (self.data.get("new-url") or "").strip())

    def clean(self) -> dict:
        data = super().clean()
        if data.get("file") and (data.get("url") or "").strip():
            self.add_error("url", "Add a file or a link, not both: the link would be lost.")
        return data
