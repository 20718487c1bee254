"""The pure parts of sampling: CSV validation (each rule names its row), the canonical form and
its hash, the suggested size, and the seeded draw being the same in another process and in the
README's script."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reports import sampling
from tests.reports.conftest import WINDOW, hires_csv

README = Path(__file__).resolve().parents[2] / "README.md"


def _errors(data: bytes) -> list[str]:
    parsed = sampling.parse_csv(data, window=WINDOW)
    assert not parsed.rows  # nothing partial
    return parsed.errors


def test_a_good_file_parses_and_the_hash_is_of_the_canonical_form():
    data = b'\xef\xbb\xbfID,Date,Description\r\nB-2,2025-03-01,"Smith, Jo"\r\nA-1,2025-02-01,x\r\n'
    parsed = sampling.parse_csv(data, window=WINDOW)
    assert parsed.ok and [r.item_id for r in parsed.rows] == ["B-2", "A-1"]
    canonical = sampling.canonical_csv(parsed.rows)
    assert canonical == b'id,date,description\nA-1,2025-02-01,x\nB-2,2025-03-01,"Smith, Jo"\n'
    assert sampling.canonical_sha256(parsed.rows) == hashlib.sha256(canonical).hexdigest()
    # The canonical form reads back as the same population.
    again = sampling.parse_csv(canonical, window=WINDOW)
    assert sampling.canonical_csv(again.rows) == canonical


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,when,description\nA,2025-01-01,x\n", "Row 1: the header must be exactly"),
        (b"id,date,description\nA,2025-13-01,x\n", "Row 2: the date '2025-13-01' is not a date"),
        (b"id,date,description\nA,1/2/2025,x\n", "Row 2: the date '1/2/2025'"),
        (b"id,date,description\nA,2024-12-31,x\n", "Row 2: 2024-12-31 is outside the obs"),
        (b"id,date,description\nA,2025-01-01,x\nA,2025-01-02,y\n", "Row 3: the id A repeats row 2"),
        (b"id,date,description\nA,2025-01-01,caf\xe9\n", "Row 2: the file is not UTF-8"),
        (b"id,date,description\n=cmd(),2025-01-01,x\n", "Row 2: the id '=cmd()' is not a plain"),
        (b"id,date,description\nA,2025-01-01\n", "Row 2: expected 3 cells"),
        (b"id,date,description\n", "The population is empty"),
        (b"", "Row 1: the header must be exactly"),
    ],
)
def test_bad_input_names_the_row(data, message):
    errors = _errors(data)
    assert errors and errors[0].startswith(message), errors


def test_too_many_rows_is_refused():
    errors = _errors(hires_csv(sampling.MAX_ROWS + 1))
    assert errors == [
        f"Row {sampling.MAX_ROWS + 2}: a population holds at most 100,000 items; split it."
    ]


def test_every_error_is_counted_and_the_first_ones_listed():
    lines = "\n".join(f"A{i},2030-01-01,x" for i in range(50))
    parsed = sampling.parse_csv(f"id,date,description\n{lines}\n".encode(), window=WINDOW)
    assert parsed.error_count == 50 and len(parsed.errors) == sampling.MAX_ERRORS
    assert parsed.summary().endswith("… and 30 more.")


def test_formula_looking_descriptions_are_neutralised_with_a_warning():
    data = b'id,date,description\nA,2025-01-01,=HYPERLINK("x")\nB,2025-01-01,@SUM(1)\n'
    parsed = sampling.parse_csv(data, window=WINDOW)
    assert parsed.ok
    assert [r.description for r in parsed.rows] == ['\'=HYPERLINK("x")', "'@SUM(1)"]
    assert parsed.warnings[0].startswith("Row 2: the description starts like a spreadsheet")
    assert b"\n=" not in sampling.canonical_csv(parsed.rows)


@pytest.mark.parametrize(
    ("population", "size"),
    [(1, 1), (4, 4), (5, 5), (6, 5), (50, 5), (51, 6), (60, 6), (250, 25), (251, 25), (99999, 25)],
)
def test_suggested_size_follows_the_convention(population, size):
    assert sampling.suggested_size(population) == size


IDS = [f"E{i:05d}" for i in range(1, 61)]
SEED = "0123456789abcdef"


def test_the_same_seed_gives_the_same_sample_in_another_process():
    here = sampling.seeded_order(SEED, IDS)[:5]
    code = (
        "from reports import sampling;"
        f"print(','.join(sampling.seeded_order({SEED!r}, {IDS!r})[:5]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other.split(",") == here
    assert sampling.seeded_order("another-seed", IDS)[:5] != here


def test_the_readme_script_re_draws_the_sample(tmp_path):
    script = re.search(
        r"<!-- sample-script -->\s*```python\n(.*?)```", README.read_text(), re.S
    ).group(1)
    assert len([line for line in script.splitlines() if line.strip()]) <= 10
    (tmp_path / "draw.py").write_text(script)
    rows = sampling.parse_csv(hires_csv(60), window=WINDOW).rows
    (tmp_path / "population.csv").write_bytes(sampling.canonical_csv(rows))
    out = subprocess.run(
        [sys.executable, "draw.py", "population.csv", SEED, "5"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == sampling.seeded_order(SEED, IDS)[:5]


def test_dates_must_be_inside_the_window_inclusive():
    data = b"id,date,description\nA,2025-01-01,x\nB,2025-12-31,y\n"
    assert sampling.parse_csv(data, window=WINDOW).ok
    assert not sampling.parse_csv(data, window=(dt.date(2025, 1, 2), WINDOW[1])).ok
