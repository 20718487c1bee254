"""Produce a report's file from an audit: the one code path of the Celery task and of the
``render_report`` command."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controls.models import Audit
from reports.content import ReportContent, report_content
from reports.models import ReportKind
from reports.rendering import exports, oscal
from reports.rendering.pdf import render_pdf

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Built:
    content: ReportContent
    sha256: str
    size: int
    pages: int | None


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def build_report(audit: Audit, kind: str, out: Path, progress: Progress | None = None) -> Built:
    """Write the ``kind`` report of ``audit`` to ``out``. Call inside the audit's org scope."""
    if kind not in ReportKind.values:
        raise ValueError(f"unknown report kind {kind!r}")
    content = report_content(audit)
    if progress:
        progress(15)
    pages = None
    if kind == ReportKind.PDF:
        pages = render_pdf(content, out, progress).pages
    elif kind == ReportKind.CSV:
        exports.matrix_csv(content, out)
    elif kind == ReportKind.EVIDENCE_CSV:
        exports.evidence_csv(content, out)
    elif kind == ReportKind.XLSX:
        exports.xlsx(content, out)
    elif kind == ReportKind.OSCAL:
        oscal.write(content, out)
    else:
        exports.package(content, out, progress=progress)
    sha256, size = file_sha256(out)
    return Built(content, sha256, size, pages)
