"""Layout rules of the readiness PDF, checked on rendered pages: words with their positions and
the filled rectangles of each page, read back with PDFium (``tests.reports.pdf_pages``).

- no running header (nor page number) on the cover;
- no table row split across pages: every page of a table starts with a whole row (its first
  cell's identifier in the first column), and each criterion's reference shares its line and
  page with its status;
- no word broken: every owner's e-mail address, each status and each due date appears whole
  on one line of some page, and no address runs into the next column;
- "1 gap", not "1 gaps";
- the gaps table gives each control's owner and due date, or says why there is none;
- the evidence index names each item's title;
- Type 2 sub-periods drawn as coloured cells (one per sub-period), with a legend.

One report of several pages, laid out in one pass and in parts by worker processes (the two
ways the app renders), then a small one with a single gap.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest

from controls.readiness import audit_readiness
from evidence.models import EvidenceVersion
from reports.content import ReportContent, report_content
from reports.rendering.parallel import render_parallel
from reports.rendering.pdf import render_single
from tenants.context import org_scope
from tenants.models import Role
from tests.factories import ControlFactory, EvidenceItemFactory, control_map, evidence_row
from tests.reports.conftest import AS_OF, TODAY
from tests.reports.pdf_pages import Page, Word, read_pages

# One worker lays out the module's reports (``rendered``, module-scoped): under xdist the
# module goes to one worker (tests/xdist_env.py, ``GROUPED_MODULES``), not rendered again on
# each. The layout is WeasyPrint's whatever the database (``backend_free``: CI runs it once).
pytestmark = [pytest.mark.django_db, pytest.mark.backend_free]

# Realistic, and long enough to wrap if a column were too narrow; two with hyphens (a line
# may break after a hyphen unless told not to).
EMAILS = [
    "priya.raman@acme.example.com",
    "ops-lead@acme-pay.example.com",
    "m.oconnor@acme.example.com",
    "security-team@acme.example.com",
]
REFS = [
    "CC1.1", "CC1.2", "CC1.3", "CC2.1", "CC2.2", "CC3.1", "CC3.2", "CC4.1", "CC5.1", "CC5.2",
    "CC6.1", "CC6.2", "CC6.3", "CC6.6", "CC7.1", "CC7.2", "CC7.3", "CC8.1", "CC9.1", "A1.2",
]  # fmt: skip
REF = re.compile(r"^(CC|A|C|PI|P)\d+\.\d+$")
CODE = re.compile(r"^[A-Z]+-\d+$")
HEADER_FILL = "#243b53"  # the table header row's background
GREEN = "#2f9e5b"  # a sub-period with accepted evidence
RED = "#d9534f"  # a sub-period without
H2_SIZE = 14 * 4 / 3  # a section heading: 14 pt, in the CSS pixels WeasyPrint draws with
STATUS_WORDS = {"Met", "Gap", "Partly", "Not"}


def _header(page: Page) -> tuple[float, float, float]:
    """The table's header row on ``page`` (its dark background): left, top and bottom."""
    header = [r for r in page.rects if r.fill == HEADER_FILL and r.height > 5]
    assert header, f"page {page.number} has no table header row"
    return min(r.x0 for r in header), min(r.top for r in header), max(r.bottom for r in header)


def _headings(page: Page) -> list[str]:
    """The section headings (h2, 14 pt) on ``page``."""
    lines: dict[int, list[str]] = {}
    for w in page.words:
        if abs(w.size - H2_SIZE) < 0.2:
            lines.setdefault(round(w.top), []).append(w.text)
    return [" ".join(words) for _, words in sorted(lines.items())]


def _body(page: Page) -> list[Word]:
    """The words under the table's header row, line by line, left to right."""
    _, _, bottom = _header(page)
    below = [w for w in page.words if bottom < w.top < 800]
    return sorted(below, key=lambda w: (round(w.top), w.x0))


def _first_column_x(page: Page) -> float:
    """Where the header row's first heading starts (a body cell's text starts there too)."""
    _, top, bottom = _header(page)
    return min(w.x0 for w in page.words if top <= w.top and w.bottom <= bottom)


def _column_text(page: Page, left: str, right: str) -> str:
    """The text of the column headed by the word ``left`` (up to the one headed by
    ``right``), line by line: a cell's lines without its neighbours' words."""
    start = next(w.x0 for w in page.words if w.text == left) - 1
    end = next(w.x0 for w in page.words if w.text == right) - 1
    lines: dict[int, list[str]] = {}
    for w in _body(page):
        if start <= w.x0 < end:
            lines.setdefault(round(w.top), []).append(w.text)
    return "\n".join(" ".join(words) for _, words in sorted(lines.items()))


def _sections(pages: list[Page]) -> dict[str, list[Page]]:
    """Each section's pages, by its heading ("Criteria", "Control matrix" ...)."""
    out: dict[str, list[Page]] = {}
    current = None
    for page in pages[2:]:  # after the cover and the contents
        for heading in _headings(page):
            current = heading.replace(" (continued)", "")
        if current:
            out.setdefault(current, []).append(page)
    return out


@dataclass
class Busy:
    audit: object
    content: ReportContent
    pages: list[Page]


@pytest.fixture(scope="module")
def rendered() -> dict[str, Busy]:
    """The busy report of each kind of render, laid out once for all the tests of this
    module (they read the PDF and the content it was made from, not the database)."""
    return {}


@pytest.fixture(params=["single", "parallel"])
def busy(request, rendered, org, make_member, make_audit, tmp_path, settings) -> Busy:
    """A Type 2 report of twenty-odd pages: 36 controls (a third implemented with evidence in
    some quarters or months, a third in progress, a third not started; some without owner or
    due date) mapped to 20 criteria."""
    if request.param not in rendered:
        rendered[request.param] = _busy(
            request.param, org, make_member, make_audit, tmp_path, settings
        )
    return rendered[request.param]


def _busy(mode, org, make_member, make_audit, tmp_path, settings) -> Busy:
    owners = [make_member(org, Role.CONTRIBUTOR, user__email=e) for e in EMAILS]
    statuses = ["implemented", "in_progress", "not_started"]
    for n in range(36):
        status = statuses[n % 3]
        control = ControlFactory(
            organization=org,
            owner=owners[n % 4] if n % 5 else None,
            code=f"OPS-{n:02d}",
            title=f"Operational safeguard number {n} of the payments platform",
            frequency="monthly" if n % 2 else "quarterly",
            status=status,
            due_date=dt.date(2025, 10, 1) + dt.timedelta(days=30 * n) if n % 4 else None,
        )
        control_map(control, REFS[n % len(REFS)])
        if status != "implemented":
            continue
        item = EvidenceItemFactory(control=control, title=f"Access review record {n}")
        for month in (2, 5, 8) if n % 2 == 0 else range(1, 10):
            version = evidence_row(control, dt.date(2025, month, 10), item=item)
            EvidenceVersion.objects.for_org(org).filter(pk=version.pk).update(
                reviewed_by=owners[(n + 1) % 4].user
            )
    audit = make_audit(org, type2=True, name="FY25 Type 2")
    out = tmp_path / "busy.pdf"
    with org_scope(org):
        content = report_content(audit, today=TODAY)
        if mode == "parallel":
            settings.REPORT_PDF_CHUNK_ROWS = 12  # several parts per long section
            settings.REPORT_PDF_WORKERS = 2
            result = render_parallel(content, out)
            assert result.parts >= 6
        else:
            render_single(content, out)
    return Busy(audit, content, read_pages(out.read_bytes()))


def test_cover_has_no_running_header(busy):
    header = f"Acme · {busy.audit.name}"
    cover = busy.pages[0]
    assert "SOC 2 Type 2 readiness report" in cover.text
    assert header not in cover.text and "Page 1 of" not in cover.text
    total = len(busy.pages)
    assert total >= 10
    for page in busy.pages[1:]:
        # Every other page: the header in the top margin (20 mm) and its number at the foot.
        top = " ".join(w.text for w in page.words if w.bottom < 20 / 25.4 * 72)
        assert top == header, page.number
        assert f"Page {page.number} of {total}" in page.text


def test_no_table_row_is_split_across_pages(busy):
    sections = _sections(busy.pages)
    expected = {
        "Criteria": REF,
        "Gaps and partly met criteria": REF,
        "Exceptions": CODE,
        "Control matrix": CODE,
        "Type 2: evidence per sub-period": CODE,
        "Evidence index": CODE,
    }
    for title, first_cell in expected.items():
        assert sections.get(title), f"no {title} section"
        for page in sections[title]:
            # The first word under the header row is a row's identifier, in the first
            # column: not the rest of a row begun on the page before.
            first = _body(page)[0]
            assert first_cell.match(first.text), (title, page.number, first.text)
            assert abs(first.x0 - _first_column_x(page)) < 1, (title, page.number)
    for title in ("Criteria", "Control matrix", "Evidence index"):
        assert len(sections[title]) >= 2, f"{title} should span pages for this test to bite"
    # Each criterion's reference is on the same page and line as its status, once.
    seen = []
    for page in sections["Criteria"]:
        body = _body(page)
        for word in body:
            if REF.match(word.text) and word.bold:
                line = {w.text for w in body if abs(w.top - word.top) < 1}
                assert line & STATUS_WORDS, (page.number, word.text)
                seen.append(word.text)
    assert seen == [row.criterion.ref for row in busy.content.readiness.criteria]


def _one_line_texts(pages: list[Page]) -> str:
    return "\n".join(page.text for page in pages)


def test_emails_statuses_and_dates_are_never_broken(busy):
    text = _one_line_texts(busy.pages)
    for address in EMAILS:
        assert re.search(rf"(^|\s){re.escape(address)}(\s|$)", text, re.M), address
    # No line ends in a hyphen (nothing hyphenated) and no address is split at its "@".
    assert not re.search(r"[a-z]-$", text, re.M)
    assert not re.search(r"^@", text, re.M)
    for label in ("Met", "Partly met", "Gap", "Not started", "In progress", "Implemented"):
        assert label in text, label
    for gap in busy.content.gaps:
        for control in gap.controls:
            if control.due:
                assert f"{control.due_label} {control.due:%-d %b %Y}" in text, control.code
    # An address stays inside its column: left of the next column's heading.
    for page in _sections(busy.pages)["Control matrix"]:
        status = next(w for w in page.words if w.text == "Status")
        for word in _body(page):
            if "@" in word.text:
                assert word.x1 < status.x0 - 2, (page.number, word.text)


def test_gaps_name_owner_and_due_date_or_why_not(busy):
    pages = _sections(busy.pages)["Gaps and partly met criteria"]
    column = " ".join(_column_text(page, "Controls:", "What") for page in pages)
    text = re.sub(r"\s+", " ", column)
    assert busy.content.gaps
    for gap in busy.content.gaps:
        for c in gap.controls:
            owner = c.owner or "No owner: assign one"
            due = f"{c.due_label} {c.due:%-d %b %Y}" if c.due else c.why_no_due
            assert f"{c.code} {c.status} {owner} {due}" in text, c.code
    assert "No owner: assign one" in text and "No due date set: set one" in text
    # An implemented control missing evidence: due when the dashboard's next action says.
    assert "Implemented" in text and "Evidence due" in text
    assert "(past)" in text  # due dates before today are marked


def test_evidence_index_names_each_item(busy):
    sections = _sections(busy.pages)
    text = _one_line_texts(sections["Evidence index"])
    assert busy.content.evidence
    for row in busy.content.evidence:
        # The title, then its file or link on the same line or (too long for one) the next.
        assert re.search(rf"{re.escape(row.item)}( · |$)", text, re.M), row.item
        assert row.name in text and row.sha256 in text


def test_type2_sub_periods_are_coloured_cells(busy):
    pages = _sections(busy.pages)["Type 2: evidence per sub-period"]
    text = _one_line_texts(pages)
    assert "Accepted evidence" in text and "No accepted evidence (an exception)" in text
    assert "Not ended yet" in text  # the legend
    assert not re.search(r"\d{4}: (covered|missing)", text)  # not a paragraph of dates
    cells = {GREEN: 0, RED: 0}
    for page in pages:
        legend = [w.top for w in page.words if w.text == "Accepted"]
        for rect in page.rects:
            if rect.fill in cells and not any(abs(rect.top - t) < 6 for t in legend):
                cells[rect.fill] += 1
    rows = [r for r in busy.content.periods if r["control"].code.startswith("OPS-")]
    assert cells[GREEN] == sum(r["covered"] for r in rows) > 0
    assert cells[RED] == sum(r["missing"] for r in rows) > 0


def test_one_gap_is_one_gap(org, manager, make_audit, tmp_path):
    """Every criterion in scope met but one: the summary says "1 gap"."""
    audit = make_audit(org, name="Singular")
    with org_scope(org):
        refs = [row.criterion.ref for row in audit_readiness(audit, today=TODAY).criteria]
    met = control_map(ControlFactory(organization=org, owner=manager, code="ALL-01"), *refs[1:])
    evidence_row(met, AS_OF - dt.timedelta(days=10))
    control_map(ControlFactory(organization=org, code="ONE-01", status="not_started"), refs[0])
    out = tmp_path / "one.pdf"
    with org_scope(org):
        content = report_content(audit, today=TODAY)
        render_single(content, out)
    assert content.readiness.counts["gap"] == 1 and content.readiness.counts["partial"] == 0
    text = re.sub(r"\s+", " ", "\n".join(p.text for p in read_pages(out.read_bytes())))
    n = len(refs) - 1
    assert f"{n} criteria met, 0 partly met and 1 gap, over {len(refs)} criteria in scope" in text
    assert "1 criterion is not met" in text
    assert not re.search(r"\b1 (gaps|criteria|exceptions|sub-periods)\b", text)


def test_evidence_entry_keeps_title_and_file_whole():
    from reports.content import EvidenceRow
    from reports.rendering.ledger import WIDTH, evidence_line

    def entry(title: str, name: str) -> list[str]:
        day = dt.date(2025, 3, 1)
        row = EvidenceRow(
            "AC-01", title, name, "file", 2, day, day, day, "a" * 64, "accepted", 1, ""
        )
        return evidence_line(row).split("\n")

    short = entry("Quarterly access review", "access-review-q1.pdf")
    assert len(short) == 2  # the usual entry: two lines
    assert short[0].endswith("accepted Quarterly access review · access-review-q1.pdf")
    title = "Quarterly review of every privileged account in the payments production systems"
    long = entry(title, "privileged-access-review-2025-q1-signed-by-the-cto.pdf")
    assert all(len(line) <= WIDTH for line in long)
    # The title wraps between words; the file's name stays whole on a line of its own.
    assert " ".join(line.strip() for line in long[:-2]).endswith(title)
    assert long[-2].strip() == "privileged-access-review-2025-q1-signed-by-the-cto.pdf"
