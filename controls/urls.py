"""An organization's controls, systems and audits under /o/<org_slug>/."""

from __future__ import annotations

org_urlpatterns: list = []
