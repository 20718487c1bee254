from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.db.models import Q

from controls.models import Audit, AuditCategory, AuditSystem, AuditType
from criteria.models import Category
from evidence.models import EvidenceVersion
from tenants.models import Membership, Organization
from tests.factories import (
    ControlFactory,
    EvidenceItemFactory,
    SystemFactory,
    control_map,
    evidence_row,
)

AS_OF = dt.date(2025, 6, 30)
WINDOW = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
TODAY = dt.date(2026, 2, 1)  # after the window: every sub-period has ended


@pytest.fixture
def make_audit(catalog) -> Callable[..., Audit]:
    counter = iter(range(1, 1000))

    def make(org: Organization, *, type2: bool = False, name: str | None = None) -> Audit:
        audit = Audit(
            organization=org,
            framework=catalog,
            name=name or f"Audit {next(counter)}",
            audit_type=AuditType.TYPE2 if type2 else AuditType.TYPE1,
            as_of_date=None if type2 else AS_OF,
            window_start=WINDOW[0] if type2 else None,
            window_end=WINDOW[1] if type2 else None,
            status="readiness",
        )
        audit.save()
        for category in Category.objects.filter(framework=catalog).filter(
            Q(always_in_scope=True) | Q(key="availability")
        ):
            AuditCategory(organization=org, audit=audit, category=category).save()
        system = SystemFactory(organization=org, name=f"Payments platform {audit.pk}")
        AuditSystem(organization=org, audit=audit, system=system).save()
        return audit

    return make


def file_version(control, name: str, payload: bytes, start: dt.date, end: dt.date):
    """A file evidence version stored through the default storage (for the package)."""
    import hashlib

    item = EvidenceItemFactory(control=control)
    version = EvidenceVersion(
        organization_id=control.organization_id,
        item=item,
        number=1,
        kind="file",
        original_name=name,
        content_type="application/pdf",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        effective_start=start,
        effective_end=end,
        valid_until=end + dt.timedelta(days=365),
        uploaded_by_label="test",
        review_state="accepted",
    )
    version.file.save("ignored", ContentFile(payload), save=False)
    version.save()
    return version


@dataclass
class Setup:
    org: Organization
    manager: Membership
    controls: list


@pytest.fixture
def populated(org, manager) -> Setup:
    """Three controls: one met with evidence in every quarter of 2025, one missing Q3 and
    Q4, one with nothing; each maps to a criterion of Security."""
    ok = control_map(
        ControlFactory(organization=org, owner=manager, code="AC-01", title="Access reviews"),
        "CC6.1",
    )
    partial = control_map(
        ControlFactory(
            organization=org,
            owner=manager,
            code="CM-02",
            title="Change approval",
            due_date=dt.date(2026, 3, 31),
        ),
        "CC8.1",
    )
    nothing = control_map(
        ControlFactory(
            organization=org, code="IR-03", title="Incident drills", status="not_started"
        ),
        "CC7.4",
    )
    for start in (
        dt.date(2025, 1, 15),
        dt.date(2025, 4, 15),
        dt.date(2025, 7, 15),
        dt.date(2025, 10, 15),
    ):
        evidence_row(ok, start, valid_until=dt.date(2026, 1, 31))
    for start in (dt.date(2025, 2, 10), dt.date(2025, 5, 10)):
        evidence_row(partial, start)
    file_version(
        ok,
        "access-review-q2.pdf",
        b"%PDF-1.4 quarterly access review",
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    )
    return Setup(org, manager, [ok, partial, nothing])


def pdf_text(data: bytes, tmp_path, *, layout: bool = False) -> str:
    """The text of a PDF, by pdftotext (poppler) when installed, else pypdf. ``layout`` keeps
    each table row on one line (cells of one line only); without it a cell's lines stay
    together."""
    import shutil
    import subprocess

    path = tmp_path / "extract.pdf"
    path.write_bytes(data)
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        done = subprocess.run(
            [pdftotext, *(["-layout"] if layout else []), str(path), "-"],
            capture_output=True,
            check=True,
        )
        return done.stdout.decode()
    from pypdf import PdfReader

    # pypdf's plain mode emits text in drawing order (a contents page's numbers before its
    # titles); its layout mode is the counterpart of ``pdftotext -layout``. Pages end with a
    # form feed, as pdftotext's do.
    mode = "layout" if layout else "plain"
    return "".join(
        page.extract_text(extraction_mode=mode) + "\f" for page in PdfReader(str(path)).pages
    )


@pytest.fixture
def eager_celery():
    """Tasks run in-process when sent (the real task and service, no broker)."""
    from soc2app.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


@dataclass
class SamplingWorld:
    org: Organization
    manager: Membership
    auditor: Membership
    audit: Audit
    other_audit: Audit
    control: object


def hires_csv(n: int = 60, *, start: dt.date = WINDOW[0]) -> bytes:
    """A population of ``n`` new hires inside the window, as an HR export would give it."""
    lines = ["id,date,description"] + [
        f"E{i:05d},{start + dt.timedelta(days=i % 300)},New hire {i}" for i in range(1, n + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def sampling_world(org, manager, make_member, make_audit) -> SamplingWorld:
    """A Type 2 audit with an in-scope control and an auditor granted it; a second Type 2
    audit the auditor was not granted."""
    from reports.services import auditor_access_grant
    from tenants.models import Role

    auditor = make_member(org, Role.AUDITOR)
    audit = make_audit(org, type2=True, name="FY25 Type 2")
    other = make_audit(org, type2=True, name="Other Type 2")
    control = control_map(
        ControlFactory(organization=org, owner=manager, code="HR-01", title="Onboarding"),
        "CC1.4",
    )
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    return SamplingWorld(org, manager, auditor, audit, other, control)
