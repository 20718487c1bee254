"""Building blocks shared by the API's input and output serializers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """An input serializer that refuses fields it does not know, instead of ignoring them: a
    typo (``onwer``) must not look like a successful update."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(str(k) for k in data.keys() if k not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: remove it."] for name in unknown[:20]},
                    code="unknown_field",
                )
        return super().to_internal_value(data)


class OwnerField(serializers.IntegerField):
    """A membership id (the control's or system's owner), or null for nobody."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        kwargs.setdefault("help_text", "Id of a member of the organization, or null for nobody.")
        super().__init__(**kwargs)


@extend_schema_serializer(component_name="Error")
class ErrorOut(serializers.Serializer):
    """The API's one error shape (its schema component is ``Error``, from
    ``soc2app.api.schema``): for the statuses that hook does not add, such as 409."""

    detail = serializers.CharField()
    code = serializers.CharField()
