from __future__ import annotations

from rest_framework import serializers

from controls.models import ControlTemplate


class ControlTemplateSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="control_type")
    library = serializers.CharField(source="library.key")
    criteria = serializers.SlugRelatedField(slug_field="ref", many=True, read_only=True)

    class Meta:
        model = ControlTemplate
        fields = [
            "code",
            "library",
            "title",
            "description",
            "type",
            "frequency",
            "evidence_guidance",
            "criteria",
        ]
