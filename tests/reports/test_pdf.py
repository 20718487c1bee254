"""The readiness PDF, opened and read back: what it says must match the readiness engine."""

from __future__ import annotations

import http.server
import re
import threading

import pytest
from pypdf import PdfReader

from controls.readiness import audit_readiness
from reports.content import report_content
from reports.rendering.fetcher import FetchRefused, StaticOnlyFetcher
from reports.rendering.parallel import render_parallel
from reports.rendering.pdf import asset_dir, render_single
from tenants.context import org_scope
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.conftest import AS_OF, TODAY, pdf_text

pytestmark = pytest.mark.django_db


def _render(audit, tmp_path, *, parallel: bool = False, name: str = "report.pdf"):
    out = tmp_path / name
    with org_scope(audit.organization):
        content = report_content(audit, today=TODAY)
        result = (render_parallel if parallel else render_single)(content, out)
    return content, result, out.read_bytes()


def _compact(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_type1_pdf_states_scope_counts_and_criteria(populated, make_audit, tmp_path):
    audit = make_audit(populated.org, name="FY25 Type 1")
    content, result, data = _render(audit, tmp_path)
    text = pdf_text(data, tmp_path)
    flat = _compact(text)
    readiness = audit_readiness(audit, today=TODAY)

    assert "SOC 2 Type 1 readiness report" in flat
    assert "Acme" in flat and "FY25 Type 1" in flat
    assert f"As of {AS_OF:%-d %B %Y}" in flat
    # Counts and score as the engine computes them, overall and per category.
    counts = readiness.counts
    assert f"Overall readiness is {readiness.score}%" in flat
    assert counts["met"] == 2  # CC6.1 and CC8.1: evidence current on the as-of date
    assert f"2 criteria met, {counts['partial']} partly met and {counts['gap']} gaps" in flat
    for category in readiness.categories:
        assert (
            f"{category.name} {category.counts['met']} {category.counts['partial']} {category.counts['gap']}"
            in flat
        )
    # Every criterion in scope is listed by its identifier.
    for row in readiness.criteria:
        assert row.criterion.ref in text
    assert "Security" in flat and "Availability" in flat
    assert "Payments platform" in flat
    # Gap list with owner and due date; matrix; evidence index with hashes.
    assert re.search(
        r"CC7\.4 .{0,80} Gap IR-03 Not started No owner: assign one No due date set: set one "
        r"IR-03 is not started",
        flat,
    )
    for row in content.evidence:
        assert row.sha256 in text
    assert "access-review-q2.pdf" in text
    # No Type 2 section in a Type 1 report.
    assert "sub-period" not in flat and "typical sample" not in flat.lower()
    # Page numbers and the running header on every page but the cover.
    reader = PdfReader(tmp_path / "report.pdf")
    assert result.pages == len(reader.pages)
    assert f"Page 2 of {result.pages}" in flat and f"Page {result.pages} of {result.pages}" in flat
    assert flat.count("Acme · FY25 Type 1") >= result.pages - 1
    # Fonts embedded.
    fonts = {f["/BaseFont"] for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert all("+" in str(name) for name in fonts)  # subset prefix: embedded


def test_type2_pdf_has_periods_and_sample_sizes(populated, make_audit, tmp_path):
    audit = make_audit(populated.org, type2=True, name="FY25 Type 2")
    content, result, data = _render(audit, tmp_path)
    flat = _compact(pdf_text(data, tmp_path))
    readiness = audit_readiness(audit, today=TODAY)

    assert "SOC 2 Type 2 readiness report" in flat
    assert "1 January 2025 – 31 December 2025 (12 months)" in flat
    assert f"Overall readiness is {readiness.score}%" in flat
    assert "Type 2: evidence per sub-period" in flat
    # The partial control has two quarters with evidence and two without.
    assert "No accepted evidence: 01 Jul 2025 – 30 Sep 2025; 01 Oct 2025 – 31 Dec 2025." in flat
    assert "4 of 4 with evidence" in flat
    assert "The typical sample size is the number" in flat
    # The partly met criterion's gap row names its control's owner and when its evidence is
    # due: the end of the first quarter without it (past on the report's day).
    assert re.search(
        r"CC8\.1 .{0,120} Partly met CM-02 Implemented user\d+@example\.com "
        r"Evidence due 30 Sep 2025 \(past\)",
        flat,
    )
    sample = readiness.controls[populated.controls[0].pk].sample
    assert f"Quarterly, manual; typical sample {sample}; 4 of 4 with evidence" in flat
    assert f"Quarterly, manual; typical sample {sample}; 2 of 4 with evidence, 2 without" in flat


@pytest.mark.backend_free  # the render processes' layout: CI runs it once
def test_parallel_parts_number_pages_and_contents(populated, make_audit, tmp_path, settings):
    """Every section cut into parts (at most 3 rows each) and laid out by 2 workers: one page
    sequence, a correct contents, table headers on every page and nothing lost or repeated."""
    settings.REPORT_PDF_CHUNK_ROWS = 3
    settings.REPORT_PDF_WORKERS = 2
    for n in range(8):
        evidence_row(populated.controls[1], AS_OF.replace(day=1 + n))
    for n in range(4):
        control_map(ControlFactory(organization=populated.org, code=f"OPS-{n:02d}"), "CC6.2")
    audit = make_audit(populated.org, type2=True)
    content, result, data = _render(audit, tmp_path, parallel=True)
    assert len(content.matrix) == 7 and len(content.evidence) >= 14
    assert result.parts >= 12 and result.workers == 2
    reader = PdfReader(tmp_path / "report.pdf")
    total = len(reader.pages)
    assert result.pages == total
    pages = [_compact(p.extract_text()) for p in reader.pages]
    header = f"Acme · {audit.name}"
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in page
        assert header in page
    assert "Page 1 of" not in pages[0]
    # The contents' page numbers point at the pages where the sections start.
    # Read in layout order (each title and its page number on one line), as PDF text is drawn
    # in whatever order the renderer chose.
    contents = _compact(pdf_text(data, tmp_path, layout=True).split("\f")[1])
    assert "Contents" in contents
    starts = {}
    for title in (
        "Scope",
        "Executive summary",
        "Criteria",
        "Gaps and partly met criteria",
        "Control matrix",
        "Type 2: evidence per sub-period",
        "Evidence index",
    ):
        starts[title] = int(re.search(rf"{re.escape(title)} (\d+)", contents).group(1))
        assert title in pages[starts[title] - 1], title
    assert list(starts.values()) == sorted(set(starts.values()))
    for title in ("Control matrix", "Type 2: evidence per sub-period", "Evidence index"):
        assert f"{title} (continued)" in " ".join(pages)
    # Each page of a long table starts with its header row.
    matrix = pages[starts["Control matrix"] - 1 : starts["Type 2: evidence per sub-period"] - 1]
    assert len(matrix) >= 2
    for page in matrix:
        assert "Control; type, frequency Owner Status Criteria" in page
    ledger = pages[starts["Evidence index"] - 1 :]
    assert len(ledger) >= 2
    for page in ledger:
        assert "Control Ver. Effective period Valid until State Item title · file or link" in page
    # Every row once, in order: the parts were merged in sequence.
    text = " ".join(pages)
    shas = [row.sha256 for row in content.evidence]
    assert [text.count(sha) for sha in shas] == [1] * len(shas)
    positions = [text.index(sha) for sha in shas]
    assert positions == sorted(positions)
    matrix = text[text.index("Control matrix Control") :]
    codes = [row.code for row in content.matrix]
    assert [matrix.index(f"{code} ") for code in codes] == sorted(
        matrix.index(f"{code} ") for code in codes
    )


@pytest.mark.backend_free  # the render processes' layout: CI runs it once
def test_parallel_and_single_pass_say_the_same(populated, make_audit, tmp_path, settings):
    settings.REPORT_PDF_CHUNK_ROWS = 2
    audit = make_audit(populated.org, type2=True, name="Same")
    # One content for both (its "Generated" time is taken once: renders straddling a minute
    # boundary on a loaded machine would differ there).
    with org_scope(audit.organization):
        content = report_content(audit, today=TODAY)
        single = render_single(content, tmp_path / "single.pdf")
        parts = render_parallel(content, tmp_path / "parts.pdf")
    one, many = (tmp_path / "single.pdf").read_bytes(), (tmp_path / "parts.pdf").read_bytes()

    def words(data: bytes) -> set[str]:
        # Apart from page numbers and the headings and table headers that continued parts
        # repeat, both say the same.
        text = re.sub(r"Page \d+ of \d+|\(continued\)", " ", pdf_text(data, tmp_path))
        return {word for word in text.split() if not word.isdigit()}

    assert words(one) == words(many)
    assert single.pages >= 5 and parts.parts >= 8


@pytest.mark.backend_free  # the render processes' layout: CI runs it once
def test_a_failing_worker_fails_the_render_with_its_reason(tmp_path):
    from reports.rendering.errors import RenderFailed
    from reports.rendering.pool import Job, Pool

    good = tmp_path / "good.html"
    good.write_text("<p>fine</p>", encoding="utf-8")
    with Pool(2, asset_dir()) as pool:
        ok = Job("good", good, tmp_path / "good.pdf")
        pool.run([ok])
        assert ok.pages == 1 and (tmp_path / "good.pdf").exists()
        with pytest.raises(RenderFailed, match="a render worker failed: .*FileNotFoundError"):
            pool.run([Job("missing", tmp_path / "missing.html", tmp_path / "missing.pdf")])
    assert all(proc.poll() is not None for proc in pool.procs)


def test_parts_are_cut_evenly_and_evidence_in_whole_bands():
    from reports.rendering.ledger import BAND
    from reports.rendering.parallel import _split

    rows = list(range(103))
    pieces = _split(rows, per_row_ms=10, target_ms=300, limit=1000)
    assert [r for piece in pieces for r in piece] == rows
    assert len(pieces) == 4 and max(map(len, pieces)) - min(map(len, pieces)) <= 26
    assert max(map(len, _split(rows, per_row_ms=1, target_ms=10_000, limit=7))) <= 7
    assert _split([], per_row_ms=1, target_ms=1, limit=1) == [[]]
    assert BAND > 1


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hostile_title_is_escaped_and_fetches_nothing(populated, make_audit, tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/x"
    _Recorder.hits = []
    try:
        title = f'<img src="{url}"><style>@import url({url}/css);</style>'
        hostile = ControlFactory(organization=populated.org, code="EVIL-1", title=title)
        control_map(hostile, "CC6.2")
        audit = make_audit(populated.org)
        audit.name = f'Q3 <link rel="stylesheet" href="{url}/link">'
        audit.save()
        content, result, data = _render(audit, tmp_path)
    finally:
        server.shutdown()
    flat = _compact(pdf_text(data, tmp_path))
    assert "EVIL-1 <img" in flat  # shown as text, not interpreted
    assert "Q3 <link" in flat
    assert _Recorder.hits == []
    assert result.refused == []  # escaped: nothing even asked to load


def test_fetcher_serves_only_our_static_files(tmp_path):
    fetcher = StaticOnlyFetcher(asset_dir())
    css = fetcher(fetcher.base_url + "css/report.css")
    assert b"@page" in css.read()
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    for url in (
        "http://127.0.0.1:9/x.png",
        "https://example.com/a.css",
        "data:text/css,body{}",
        secret.as_uri(),
        fetcher.base_url + "../manage.py",
        fetcher.base_url + "css/missing.css",
    ):
        with pytest.raises(FetchRefused):
            fetcher(url)
    assert len(fetcher.refused) == 6


def test_refused_url_is_recorded_when_html_asks_for_one(tmp_path):
    """Defence in depth: even markup that reached WeasyPrint could not fetch."""
    from weasyprint import HTML

    fetcher = StaticOnlyFetcher(asset_dir())
    HTML(
        string='<link rel="stylesheet" href="css/report.css"><img src="http://127.0.0.1:9/i.png">',
        base_url=fetcher.base_url,
        url_fetcher=fetcher,
    ).write_pdf(tmp_path / "x.pdf")
    assert fetcher.refused == ["http://127.0.0.1:9/i.png"]
