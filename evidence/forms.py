"""Browser forms of the evidence pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms

from evidence.models import EvidenceItem, EvidenceKind, ReviewState
from evidence.selectors import ATTENTION_STATES, NO_OWNER

NEW_ITEM = ""


class EvidenceAddForm(forms.Form):
    kind = forms.ChoiceField(
        label="What are you adding?",
        choices=[(EvidenceKind.FILE, "A file"), (EvidenceKind.LINK, "A link")],
        initial=EvidenceKind.FILE,
        widget=forms.RadioSelect,
    )
    item = forms.ChoiceField(
        label="Evidence item",
        required=False,
        help_text="Add a new version to existing evidence, or start a new item.",
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        required=False,
        help_text="For a new item, e.g. “Q1 access review”. Defaults to the file name or link.",
    )
    file = forms.FileField(label="File", required=False, allow_empty_file=True)
    url = forms.CharField(
        label="Link",
        max_length=2100,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text="Where the evidence lives (a ticket, a report in another tool).",
    )
    effective_start = forms.DateField(
        label="Demonstrates (date or first day)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day or period the evidence shows, not today: a Q1 review uploaded in "
        "April starts on 1 January.",
        error_messages={"required": "Give the date (or first day) the evidence demonstrates."},
    )
    effective_end = forms.DateField(
        label="Last day (for a period)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for a single day.",
    )
    description = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: object, items: list[EvidenceItem], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.items = {str(item.pk): item for item in items}
        self.fields["item"].choices = [(NEW_ITEM, "A new evidence item")] + [
            (str(item.pk), f"{item.title} (now version {item.latest.number if item.latest else 0})")
            for item in items
        ]
        self.fields["file"].widget.attrs["accept"] = (
            ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.csv,.json,.xlsx,.xls,.ods,.docx,.odt,.zip"
        )

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind == EvidenceKind.FILE and not data.get("file"):
            self.add_error("file", "Choose the file to upload.")
        if kind == EvidenceKind.LINK and not (data.get("url") or "").strip():
            self.add_error("url", "Enter the address of the evidence.")
        return data

    @property
    def chosen_item(self) -> EvidenceItem | None:
        return self.items.get(self.cleaned_data.get("item") or NEW_ITEM)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(ReviewState.ACCEPTED, "Accept"), (ReviewState.REJECTED, "Reject")]
    )
    comment = forms.CharField(required=False, max_length=5000)


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why is it removed?", max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


STATE_CHOICES = [
    ("", "Anything that needs attention"),
    ("stale", "Stale"),
    ("expiring", "Expiring soon"),
    ("pending", "Awaiting review"),
    ("rejected", "Rejected"),
]
assert {value for value, _ in STATE_CHOICES if value} == set(ATTENTION_STATES)


class AttentionFilter(forms.Form):
    state = forms.ChoiceField(label="State", choices=STATE_CHOICES, required=False)
    owner = forms.ChoiceField(label="Control owner", required=False)

    def __init__(self, *args: object, owners: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", "Any owner"),
            (NO_OWNER, "Nobody (unowned controls)"),
        ] + [(str(pk), label) for pk, label in owners]
