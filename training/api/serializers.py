"""Input and output serializers of the training API."""

from __future__ import annotations

from rest_framework import serializers

from soc2app.api.serializers import StrictInput


class RequirementOut(serializers.Serializer):
    id = serializers.IntegerField(source="requirement.pk")
    title = serializers.CharField(source="requirement.title")
    kind = serializers.CharField(source="requirement.kind")
    library_key = serializers.CharField(source="requirement.library_key")
    due_days = serializers.IntegerField(source="requirement.due_days")
    every_months = serializers.IntegerField(source="requirement.every_months")
    criteria = serializers.ListField(source="requirement.criteria", child=serializers.CharField())
    covered = serializers.IntegerField()
    current = serializers.IntegerField()
    overdue = serializers.IntegerField()


class StatusOut(serializers.Serializer):
    person = serializers.IntegerField(source="person_id")
    full_name = serializers.CharField()
    email = serializers.EmailField()
    department = serializers.CharField()
    last_completed = serializers.DateField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    current = serializers.BooleanField()


class CompletionIn(StrictInput):
    email = serializers.EmailField(help_text="The person's e-mail in the roster.")
    completed_on = serializers.DateField()
    provider = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CompletionOut(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    requirement = serializers.IntegerField(source="requirement_id")
    completed_on = serializers.DateField()
    source = serializers.CharField()
    provider = serializers.CharField()
    recorded_at = serializers.DateTimeField()
