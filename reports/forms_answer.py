"""Forms of the answer to a request for information: the chosen versions and the note, the
evidence search, and new evidence added on the spot. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from controls.models import Control
from evidence.forms import EvidenceAddForm
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


_ADD = EvidenceAddForm.base_fields  # the same fields (limits, wording) as the evidence page
NEW_FIELDS = ("title", "file", "url", "effective_start", "effective_end")


class NewEvidenceForm(forms.Form):
    """New evidence for one of the audit's controls, sent with the answer (prefix ``new``).
    Bound only when the person filled some of it (``filled``): an untouched section is no
    request to add anything, and shows no errors."""

    control = forms.TypedChoiceField(label="Control", coerce=int)
    title = _ADD["title"]
    file = _ADD["file"]
    url = _ADD["url"]
    effective_start = _ADD["effective_start"]
    effective_end = _ADD["effective_end"]

    def __init__(self, *args: object, controls: list[Control], **kwargs: object) -> None:
        super().__init__(*args, prefix="new", **kwargs)
        self.fields["control"].choices = [(c.pk, f"{c.code} {c.title}") for c in controls]
        self.fields["url"].label = "or a link"
        self.fields["title"].help_text = "Defaults to the file name or link."

    @staticmethod
    def filled(data: QueryDict, files: MultiValueDict) -> bool:
        return bool(files.get("new-file")) or any(
            (data.get(f"new-{name}") or "").strip() for name in NEW_FIELDS
        )

    def clean(self) -> dict:
        data = super().clean()
        url = (data.get("url") or "").strip()
        if data.get("file") and url:
            self.add_error("url", "Add a file or a link, not both: the link would be lost.")
        elif not data.get("file") and not url and "file" not in self.errors:
            self.add_error("file", "Choose the file to upload, or enter a link.")
        return data
