"""``render_report``: the same files as the UI, synchronously; one-line errors."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_renders_a_pdf_and_a_csv(populated, make_audit, tmp_path, capsys):
    audit = make_audit(populated.org, type2=True)
    out = tmp_path / "r.pdf"
    call_command("render_report", audit=str(audit.pk), out=str(out))
    assert out.read_bytes().startswith(b"%PDF")
    printed = capsys.readouterr().out
    assert "pages) sha256 " in printed
    call_command("render_report", audit=str(audit.pk), out=str(tmp_path / "m.csv"), format="csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "m.csv").read_text("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["AC-01", "CM-02", "IR-03"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"audit": "999999", "format": "pdf"}, "no audit with id 999999"),
        ({"audit": "abc", "format": "pdf"}, "--audit must be a number"),
        ({"audit": "1", "format": "docx"}, "unknown format 'docx'"),
    ],
)
def test_bad_input_is_one_line(options, message, tmp_path, db):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("render_report", out=str(tmp_path / "x"), **options)
    assert "\n" not in str(caught.value)


def test_cli_exit_status(tmp_path, db):
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "render_report",
            "--audit",
            "1",
            "--out",
            "x",
            "--format",
            "bad",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "CommandError: unknown format 'bad'; use one of pdf, csv, evidence-csv, xlsx, zip, oscal"
    )
