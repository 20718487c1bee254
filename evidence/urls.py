"""Evidence pages under /o/<org_slug>/evidence/."""

from __future__ import annotations

org_urlpatterns: list = []
