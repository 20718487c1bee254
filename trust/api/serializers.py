"""Input and output serializers of the trust center API. The inputs only shape the JSON: what
a value may be (an address, a domain, a length) is checked once, by ``trust.services``."""

from __future__ import annotations

from rest_framework import serializers

from soc2app.api.serializers import StrictInput
from soc2app.api.tenancy import MAX_ID
from trust.models import RequestStatus, TrustDocument, TrustRequest, Visibility

# Bounds on the JSON's size only (the services' limits are smaller and say so).
_MAX_TEXT = 100_000
_MAX_ITEMS = 1_000


class TrustSettingsOut(serializers.Serializer):
    saved = serializers.BooleanField(help_text="False until the settings are first saved.")
    published = serializers.BooleanField()
    slug = serializers.CharField(help_text="The address: the page is /trust/<slug>/.")
    public_url = serializers.CharField(help_text="The public page's path.")
    custom_domain = serializers.CharField(help_text="A domain of the organization, or empty.")
    domain_record_name = serializers.CharField(
        help_text="The DNS TXT record to publish to prove the custom domain (empty without one)."
    )
    domain_record_value = serializers.CharField(
        help_text="The value that TXT record must hold (empty without a custom domain)."
    )
    domain_verified_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the TXT record was found (`check-domain`); null until then, and again "
        "once the domain changes.",
    )
    domain_listed = serializers.BooleanField(
        help_text="The operator listed the custom domain (TRUST_HOSTS): it is served only when "
        "listed and verified."
    )
    headline = serializers.CharField()
    intro = serializers.CharField()
    audit = serializers.IntegerField(
        source="audit_id", allow_null=True, help_text="The audit shown, or null."
    )
    audit_status = serializers.CharField(help_text="The audit as the page words it.")
    show_categories = serializers.BooleanField()
    show_subprocessors = serializers.BooleanField()
    nda_text = serializers.CharField()
    allowed_domains = serializers.ListField(
        child=serializers.CharField(), help_text="E-mail domains approved at once."
    )
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)


class TrustSettingsIn(StrictInput):
    published = serializers.BooleanField(required=False)
    slug = serializers.CharField(
        required=False, max_length=_MAX_TEXT, help_text="3–50 lower-case letters, digits, -."
    )
    custom_domain = serializers.CharField(required=False, allow_blank=True, max_length=_MAX_TEXT)
    headline = serializers.CharField(required=False, allow_blank=True, max_length=_MAX_TEXT)
    intro = serializers.CharField(required=False, allow_blank=True, max_length=_MAX_TEXT)
    audit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="An audit id."
    )
    show_categories = serializers.BooleanField(required=False)
    show_subprocessors = serializers.BooleanField(required=False)
    nda_text = serializers.CharField(required=False, allow_blank=True, max_length=_MAX_TEXT)
    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=_MAX_TEXT), required=False, max_length=_MAX_ITEMS
    )


class TrustControlsSerializer(StrictInput):
    controls = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=_MAX_ITEMS,
        help_text="Ids of the controls the page shows (the whole choice).",
    )


class TrustDocumentOut(serializers.ModelSerializer):
    source = serializers.SerializerMethodField()
    policy_title = serializers.SerializerMethodField()

    class Meta:
        model = TrustDocument
        fields = [
            "id",
            "title",
            "description",
            "visibility",
            "source",
            "file_name",
            "content_type",
            "size",
            "sha256",
            "policy_version",
            "policy_title",
            "created_at",
        ]
        read_only_fields = fields

    def get_source(self, doc: TrustDocument) -> str:
        return "policy" if doc.policy_version_id else "file"

    def get_policy_title(self, doc: TrustDocument) -> str | None:
        return doc.policy_version.policy.title if doc.policy_version_id else None


class TrustDocumentIn(StrictInput):
    title = serializers.CharField(max_length=_MAX_TEXT, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    description = serializers.CharField(
        max_length=_MAX_TEXT, required=False, allow_blank=True, default=""
    )
    file = serializers.FileField(required=False, help_text="A file (multipart), or...")
    policy_version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="...an approved policy version."
    )


class TrustRequestFilterIn(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RequestStatus.choices, required=False, help_text="Every status when absent."
    )


class TrustRequestOut(serializers.ModelSerializer):
    document_title = serializers.CharField(source="document.title", read_only=True)

    class Meta:
        model = TrustRequest
        fields = [
            "id",
            "document",
            "document_title",
            "name",
            "email",
            "company",
            "nda_sha256",
            "nda_accepted_at",
            "ip_address",
            "status",
            "auto_approved",
            "decided_by_label",
            "decided_at",
            "link_expires_at",
            "downloads",
            "created_at",
        ]
        read_only_fields = fields
