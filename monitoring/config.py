"""A connection's settings per kind (``Connection.config``), cleaned against what its collector
declares (``config_fields``, see ``monitoring.collectors.ConfigField``):

* a setting not declared by the kind is refused (a typo must not pass silently);
* a missing or empty one takes its default; a required one still empty is refused;
* ``many``: a list of short texts (a JSON list in the API; one per line, or separated by
  commas, in the form), trimmed, without empties or repeats, in the order given;
* ``choices``: each value must be one of them.

Errors name the setting as ``config.<name>`` (the form's field, and the API's ``field``).
Kinds without a collector (custom, or one not installed here) take no settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from monitoring.collectors import CollectorError, ConfigField, collector_for
from soc2app.errors import ValidationFailed

MAX_VALUE = 500  # characters of one value
MAX_ITEMS = 100  # values of one ``many`` setting


def config_fields_for(kind: str) -> tuple[ConfigField, ...]:
    try:
        return tuple(collector_for(kind).config_fields)
    except CollectorError:
        return ()


def field_name(setting: ConfigField) -> str:
    return f"config.{setting.name}"


def _text(setting: ConfigField, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationFailed(f"{setting.label}: give a text.", field=field_name(setting))
    text = str(value).strip()
    if len(text) > MAX_VALUE:
        raise ValidationFailed(
            f"{setting.label}: keep each value under {MAX_VALUE} characters.",
            field=field_name(setting),
        )
    if setting.choices and text and text not in setting.choices:
        allowed = ", ".join(setting.choices[:20])
        raise ValidationFailed(
            f"{setting.label}: {text[:60]!r} is not one of {allowed}.", field=field_name(setting)
        )
    return text


def _many(setting: ConfigField, value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\n,]", value)
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"{setting.label}: give a list.", field=field_name(setting))
    cleaned = list(dict.fromkeys(t for t in (_text(setting, v) for v in value) if t))
    if len(cleaned) > MAX_ITEMS:
        raise ValidationFailed(
            f"{setting.label}: at most {MAX_ITEMS} values.", field=field_name(setting)
        )
    return cleaned


def _default(setting: ConfigField) -> str | list[str]:
    if setting.many:
        default = setting.default
        return [default] if isinstance(default, str) and default else list(default or ())
    return setting.default if isinstance(setting.default, str) else ""


def config_clean(kind: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """``raw`` cleaned for ``kind`` (see the module); raises ``ValidationFailed``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed("Settings must be an object of name and value.", field="config")
    fields = config_fields_for(kind)
    unknown = sorted(set(raw) - {f.name for f in fields})
    if unknown:
        known = ", ".join(f.name for f in fields) or "none"
        raise ValidationFailed(
            f"This kind of connection has no setting {', '.join(map(str, unknown[:5]))} "
            f"(its settings: {known}).",
            field="config",
        )
    cleaned: dict[str, Any] = {}
    for setting in fields:
        value = raw.get(setting.name)
        value = _many(setting, value or []) if setting.many else _text(setting, value or "")
        if not value:
            value = _default(setting)
        if setting.required and not value:
            raise ValidationFailed(f"{setting.label} is required.", field=field_name(setting))
        cleaned[setting.name] = value
    return cleaned
