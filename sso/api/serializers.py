from __future__ import annotations

from rest_framework import serializers


class SsoDomainOut(serializers.Serializer):
    domain = serializers.CharField()
    verified = serializers.BooleanField()
    verified_method = serializers.CharField(allow_blank=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class SsoStatusOut(serializers.Serializer):
    """Whether and how the organization signs in through its identity provider: evidence
    for access control (CC6.1). No secret, no verification token."""

    configured = serializers.BooleanField()
    protocol = serializers.CharField(allow_null=True)
    enabled = serializers.BooleanField()
    require_sso = serializers.BooleanField()
    allow_jit = serializers.BooleanField()
    tested_at = serializers.DateTimeField(allow_null=True)
    domains = SsoDomainOut(many=True)
