from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from criteria.models import Category, Criterion, Framework


class FrameworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = ["key", "name", "version", "description", "loaded_at"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["key", "name", "description", "always_in_scope"]


class CrosswalkReferenceSerializer(serializers.Serializer):
    framework = serializers.CharField(
        help_text="Key of the external framework, e.g. iso27001-2022."
    )
    ref_id = serializers.CharField()
    title = serializers.CharField()


class TemplateRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class CriterionSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.key")
    category = serializers.CharField(source="category.key")
    series = serializers.CharField(source="series.key")
    series_name = serializers.CharField(source="series.name")
    points_of_focus = serializers.SerializerMethodField()
    crosswalk = serializers.SerializerMethodField()
    templates = serializers.SerializerMethodField()

    class Meta:
        model = Criterion
        fields = [
            "ref",
            "framework",
            "category",
            "series",
            "series_name",
            "title",
            "description",
            "coso_principle",
            "points_of_focus",
            "crosswalk",
            "templates",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_points_of_focus(self, obj: Criterion) -> list[str]:
        return [p.text for p in obj.points_of_focus.all()]

    @extend_schema_field(CrosswalkReferenceSerializer(many=True))
    def get_crosswalk(self, obj: Criterion) -> list[dict]:
        return [
            {
                "framework": m.reference.framework.key,
                "ref_id": m.reference.ref_id,
                "title": m.reference.title,
            }
            for m in obj.crosswalks.all()
        ]

    @extend_schema_field(TemplateRefSerializer(many=True))
    def get_templates(self, obj: Criterion) -> list[dict]:
        return [{"code": t.code, "title": t.title} for t in obj.templates.all()]
