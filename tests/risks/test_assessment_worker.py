"""The risk assessment's PDF rendered by a real Celery worker (Redis broker, PostgreSQL under
row-level security): sent on commit to the reports route, stored with its SHA-256, and
pdftotext shows the frozen risks (not later edits), the summary and page numbers; the pages
are turned into PNGs (``pdftoppm``) to look at. A second delivery changes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from risks import services
from risks.assessment import assessment_run
from risks.assessment_pdf import assessment_render
from risks.models import AssessmentStatus, RiskAssessment
from soc2app.celery import app as celery_app
from tenants.context import org_scope
from tests.workers import celery_worker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

TASK = "risks.tasks.render_assessment_pdf"


@pytest.fixture
def reports_route():
    """Send the PDF task to the test worker's queue (the reports route of this process).

    Celery prepares the routes table and the router once per process (an earlier test of this
    process may have sent a task already): both are built again, here and when done."""
    amqp = celery_app.amqp
    routes = celery_app.conf.task_routes
    before = routes.get(TASK)

    def rebuild() -> None:
        amqp.flush_routes()
        amqp.router = amqp.Router()

    def use(queue: str) -> None:
        routes[TASK] = {"queue": queue}
        rebuild()

    yield use
    if before is None:
        routes.pop(TASK, None)
    else:
        routes[TASK] = before
    rebuild()


def _get(pk: int) -> RiskAssessment:
    return RiskAssessment.objects.dangerously_unscoped(reason="test").get(pk=pk)


def _finished(pk: int) -> RiskAssessment | None:
    found = _get(pk)
    return found if found.status != AssessmentStatus.RENDERING else None


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_a_worker_renders_the_pdf_from_the_frozen_rows(
    org, manager, tmp_path, reports_route, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # shared with the worker below
    with org_scope(org):
        risks = [
            services.risk_create(
                membership=manager,
                title=f"Frozen risk number {n:02d} with a fairly long title to wrap",
                description="",
                category="security",
                inherent_likelihood=1 + n % 5,
                inherent_impact=1 + (n * 3) % 5,
                owner=manager.pk,
            )
            for n in range(40)
        ]
    with celery_worker(tmp_path, "test-risk-pdf", MEDIA_ROOT=settings.MEDIA_ROOT) as queue:
        reports_route(queue)
        with org_scope(org):
            done = assessment_run(membership=manager, notes="Quarterly board review.")
            # Edited after the run: the PDF must show the register as frozen.
            services.risk_update(membership=manager, risk=risks[0], title="Edited afterwards")
        ready = wait_for(lambda: _finished(done.pk), 120, "the PDF")
    assert ready.status == AssessmentStatus.READY, ready.error
    with default_storage.open(ready.pdf_file, "rb") as handle:
        pdf = handle.read()
    assert hashlib.sha256(pdf).hexdigest() == ready.pdf_sha256 and len(pdf) == ready.pdf_size
    path = tmp_path / "assessment.pdf"
    path.write_bytes(pdf)
    pdftotext = [shutil.which("pdftotext") or "pdftotext", "-layout", str(path), "-"]
    text = subprocess.run(pdftotext, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "Risk assessment" in text and "Quarterly board review." in text
    assert "Frozen risk number 00" in text and "Frozen risk number 39" in text
    assert "Edited afterwards" not in text
    assert "Page 1 of" in text and "Inherent risk" in text and "Residual risk" in text
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm") or "pdftoppm"
    images = [pdftoppm, "-png", "-r", "60", str(path), str(out / "risk-assessment-pdf")]
    subprocess.run(images, check=True)  # noqa: S603
    assert list(out.glob("risk-assessment-pdf-*.png"))

    # A second delivery (acks_late) finds it ready and changes nothing.
    assert assessment_render(done.pk, org.pk) == AssessmentStatus.READY
    again = _get(done.pk)
    assert (again.pdf_file, again.pdf_sha256) == (ready.pdf_file, ready.pdf_sha256)
