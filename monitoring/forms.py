"""Forms of the monitoring pages."""

from __future__ import annotations

from typing import Any

from django import forms

from monitoring.collectors import CollectorError, ConfigField, collector_for
from monitoring.models import Connection, ConnectionKind, Schedule, Severity
from soc2app.errors import DomainError


class OverviewFilter(forms.Form):
    severity = forms.ChoiceField(required=False, label="Severity")
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner")

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "Any severity"), *Severity.choices]
        self.fields["owner"].choices = [("", "Any owner"), *owners]


def _config_field(setting: ConfigField) -> forms.Field:
    """The form field of one of a kind's settings (the service cleans the value)."""
    help_text = setting.help + (" Required." if setting.required else "")
    common = {"label": setting.label, "required": False, "help_text": help_text}
    default = setting.default
    if setting.many and setting.choices:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in setting.choices],
            widget=forms.CheckboxSelectMultiple,
            initial=list(default) if not isinstance(default, str) else [default],
            **common,
        )
    if setting.many:
        common["help_text"] = f"One per line. {help_text}".strip()
        initial = default if isinstance(default, str) else "\n".join(default)
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), initial=initial, **common)
    if setting.choices:
        choices = [("", "Default"), *((c, c) for c in setting.choices)]
        return forms.ChoiceField(choices=choices, initial=default, **common)
    return forms.CharField(max_length=500, initial=default, **common)


def config_key(kind: str, name: str) -> str:
    return f"config-{kind}-{name}"


class ConnectionForm(forms.Form):
    """A connection: its kind (a new one only), name, systems, credentials (write-only),
    schedule, and the settings of each kind (shown for the kind chosen by
    ``static/js/kind-form.js``; without JavaScript every kind's settings show, and only the
    chosen kind's are used)."""

    kind = forms.ChoiceField(widget=forms.RadioSelect, initial=ConnectionKind.CUSTOM)
    name = forms.CharField(max_length=120, help_text="e.g. “Production AWS” or “CI tests”.")
    systems = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Systems in scope",
        widget=forms.CheckboxSelectMultiple,
    )
    credentials = forms.CharField(
        required=False,
        max_length=8192,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Stored encrypted and never shown again. Not needed for your own tests.",
    )
    schedule = forms.ChoiceField(choices=Schedule.choices, initial=Schedule.DAILY)

    def __init__(self, *args, systems=(), kinds=(), editing: Connection | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = list(systems)
        self.editing = editing
        labels = dict(ConnectionKind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in kinds]
        if editing is not None:
            del self.fields["kind"]
            kinds = [editing.kind]
            self.fields["credentials"].help_text = (
                "Leave empty to keep the current credentials (never shown); paste new ones "
                "to replace them."
            )
        self.kind_groups: list[tuple[str, list[str], str]] = []
        for kind in kinds:
            try:
                collector = collector_for(kind)
            except CollectorError:
                continue
            names = []
            for setting in collector.config_fields:
                key = config_key(kind, setting.name)
                self.fields[key] = _config_field(setting)
                if editing is not None and setting.name in editing.config:
                    value = editing.config[setting.name]
                    many_text = setting.many and not setting.choices
                    self.initial[key] = "\n".join(value) if many_text else value
                names.append(key)
            self.kind_groups.append((kind, names, getattr(collector, "credentials_help", "")))

    def chosen_kind(self) -> str:
        return self.editing.kind if self.editing is not None else self.cleaned_data["kind"]

    def service_arguments(self) -> dict[str, Any]:
        """What ``connection_create``/``connection_update`` take (the chosen kind's settings;
        credentials only when some were given, on a change)."""
        data = dict(self.cleaned_data)
        kind = self.chosen_kind()
        prefix = config_key(kind, "")
        config = {}
        for key in list(data):
            if key.startswith("config-"):
                value = data.pop(key)
                if key.startswith(prefix):
                    config[key[len(prefix) :]] = value
        data["config"] = config
        if self.editing is not None and not data.get("credentials"):
            data.pop("credentials", None)
        return data

    def add_service_error(self, error: DomainError) -> None:
        """A refusal next to its field: ``config.<name>`` is the chosen kind's setting."""
        field = error.field or ""
        if field.startswith("config."):
            field = config_key(self.chosen_kind(), field.removeprefix("config."))
        self.add_error(field if field in self.fields else None, error.message)

    def kind_sections(self) -> list[dict[str, Any]]:
        """Per kind with settings: its bound fields, for the template."""
        return [
            {"kind": kind, "fields": [self[name] for name in names], "credentials_help": help}
            for kind, names, help in self.kind_groups
        ]
