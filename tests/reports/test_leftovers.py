"""The leftovers sweep removes what killed renders leave: render folders whose process is gone
and stored report files no row references, once older than the grace period; it keeps what a
live render or a report still uses. Reports and their sweep go to the reports queue."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from reports.models import Report, ReportStatus
from reports.rendering.scratch import process_tag, scratch_folder
from reports.sweeps import reports_sweep_leftovers
from reports.tasks import sweep_report_leftovers
from soc2app.celery import app as celery_app

HOUR = 3600


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return process.pid


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def render_dir(settings, tmp_path) -> Path:
    settings.REPORT_TMP_DIR = str(tmp_path / "render")
    return tmp_path / "render"


def test_render_folders_of_dead_processes_go_once_old(render_dir, settings):
    host = process_tag().rpartition(":")[0]
    with scratch_folder() as live:  # this process renders: its folder stays
        _age(Path(live), 2 * HOUR)
        dead = render_dir / f"report-{host}:{_dead_pid()}-abc123"
        young = render_dir / f"report-{host}:{_dead_pid()}-def456"
        elsewhere = render_dir / "report-other-host:12-ghi789"  # another machine: age decides
        unrelated = render_dir / "cache"
        for folder in (dead, young, elsewhere, unrelated):
            (folder / "part").mkdir(parents=True)
            (folder / "part" / "000.html").write_text("<p>x</p>")
        for folder in (dead, elsewhere, unrelated):
            _age(folder, 2 * HOUR)
        _age(young, 60)

        removed = reports_sweep_leftovers(older_than=HOUR)

        assert sorted(removed["folders"]) == sorted([dead.name, elsewhere.name])
        assert sorted(p.name for p in render_dir.iterdir()) == sorted(
            [Path(live).name, young.name, "cache"]
        )
    assert reports_sweep_leftovers(older_than=HOUR)["folders"] == []


@pytest.mark.django_db
def test_stored_report_files_no_row_references_go_once_old(populated, make_audit, render_dir):
    audit = make_audit(populated.org)
    storage = Report._meta.get_field("file").storage
    kept = Report.objects.create(organization=populated.org, audit=audit, kind="csv")
    kept_name = storage.save(f"reports/{populated.org.pk}/kept", ContentFile(b"a,b\n"))
    Report.objects.for_org(populated.org).filter(pk=kept.pk).update(
        status=ReportStatus.DONE, file=kept_name, sha256="0" * 64
    )
    orphan = storage.save(f"reports/{populated.org.pk}/orphan", ContentFile(b"lost"))
    fresh = storage.save(f"reports/{populated.org.pk}/fresh", ContentFile(b"being recorded"))
    for name in (kept_name, orphan):
        _age(Path(storage.path(name)), 2 * HOUR)

    assert reports_sweep_leftovers(older_than=HOUR)["files"] == [orphan]

    assert not storage.exists(orphan)
    assert storage.exists(kept_name) and storage.exists(fresh)
    assert sweep_report_leftovers() == {"folders": 0, "files": 0}  # nothing more


def test_reports_and_their_sweep_are_routed_to_the_reports_queue(settings):
    router = celery_app.amqp.router

    def queue_of(task: str) -> str:
        return router.route({}, task)["queue"].name

    assert settings.CELERY_REPORTS_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of("reports.tasks.generate_report") == settings.CELERY_REPORTS_QUEUE
    assert queue_of("reports.tasks.sweep_report_leftovers") == settings.CELERY_REPORTS_QUEUE
    # The periodic jobs and sweeps that must stay prompt do not wait behind renders.
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if name != "sweep-report-leftovers":
            assert queue_of(entry["task"]) == settings.CELERY_TASK_DEFAULT_QUEUE, name
    assert settings.CELERY_BEAT_SCHEDULE["sweep-report-leftovers"]["task"] == (
        "reports.tasks.sweep_report_leftovers"
    )
