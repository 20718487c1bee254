from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db.models import Q

from controls.models import Audit, AuditCategory, AuditType
from criteria.models import Category
from tenants.models import Organization


@pytest.fixture
def make_audit(catalog) -> Callable[..., Audit]:
    """An audit written directly (the audit services are tested on their own): pass ``as_of``
    for Type 1 or ``window=(start, end)`` for Type 2; Security is always in scope."""
    counter = iter(range(1, 1000))

    def make(
        org: Organization,
        *,
        as_of: dt.date | None = None,
        window: tuple[dt.date, dt.date] | None = None,
        categories: tuple[str, ...] = (),
        status: str = "readiness",
    ) -> Audit:
        audit = Audit(
            organization=org,
            framework=catalog,
            name=f"Audit {next(counter)}",
            audit_type=AuditType.TYPE2 if window else AuditType.TYPE1,
            as_of_date=as_of,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            status=status,
        )
        audit.save()
        for category in Category.objects.filter(framework=catalog).filter(
            Q(always_in_scope=True) | Q(key__in=categories)
        ):
            AuditCategory(organization=org, audit=audit, category=category).save()
        return audit

    return make
