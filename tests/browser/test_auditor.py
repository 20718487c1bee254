"""The auditor's journey in a real browser: a manager grants access to one audit; the auditor
signs in, sees only that audit, reads readiness, a control and its evidence (a file, downloaded
with its hash, and a link whose breadcrumbs stay in the portal), downloads a report, raises a
request and is kept out of the organization's other pages; the manager answers with evidence;
the auditor sees the answer, comments, accepts it and finds it under the "Accepted" filter."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import AuditorAccess, InfoRequest, RequestComment, RequestStatus
from tenants.models import ActivityEntry, Role
from tests.factories import PASSWORD, ControlFactory, MembershipFactory, control_map, evidence_row
from tests.reports.conftest import file_version, make_audit  # noqa: F401  (fixture)
from tests.reports.portal_world import _done_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_the_auditor_journey(page, catalog, make_audit):  # noqa: F811
    manager = MembershipFactory(role=Role.COMPLIANCE_MANAGER)
    org = manager.organization
    auditor = MembershipFactory(
        organization=org, role=Role.AUDITOR, expires_at=timezone.now() + dt.timedelta(days=30)
    )
    audit = make_audit(org, name="FY25 Type 1")
    make_audit(org, name="Secret audit")
    control = control_map(
        ControlFactory(organization=org, owner=manager, code="AC-01", title="Access reviews"),
        "CC6.1",
    )
    version = file_version(
        control, "access-review.pdf", b"%PDF-1.4 review", dt.date(2025, 6, 1), dt.date(2025, 6, 30)
    )
    link = evidence_row(control, dt.date(2025, 6, 15))
    report = _done_report(audit, payload=b"control,status\nAC-01,implemented\n")

    # The manager gives the auditor access to one audit, from its dashboard.
    _sign_in(page, manager.user.email)
    page.goto(f"/o/{org.slug}/audits/{audit.pk}/")
    page.get_by_label("Give access to").select_option(label=auditor.user.email)
    page.get_by_role("button", name="Grant access").click()
    expect(page.get_by_text(f"{auditor.user.email} can now see this audit.")).to_be_visible()
    _sign_out(page)

    # The auditor lands in the portal and sees only that audit.
    _sign_in(page, auditor.user.email)
    page.wait_for_url(f"**/o/{org.slug}/portal/")
    expect(page.get_by_role("link", name="FY25 Type 1")).to_be_visible()
    expect(page.get_by_text("Secret audit")).to_have_count(0)
    page.get_by_role("link", name="FY25 Type 1").click()
    expect(page.get_by_role("heading", name="Overall readiness")).to_be_visible()

    # A report, downloaded intact.
    with page.expect_download() as download:
        page.get_by_role("link", name=report.get_kind_display()).click()
    assert hashlib.sha256(open(download.value.path(), "rb").read()).hexdigest() == report.sha256

    # A control and its evidence.
    page.get_by_role("link", name="AC-01").first.click()
    expect(page.get_by_text("Access reviews").first).to_be_visible()
    page.get_by_role("link", name=version.item.title).click()
    expect(page.get_by_text(version.sha256)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="access-review.pdf").click()
    assert hashlib.sha256(open(download.value.path(), "rb").read()).hexdigest() == version.sha256

    # A link-type evidence item: its page and its breadcrumbs stay in the portal.
    page.get_by_role("link", name="AC-01").click()
    page.get_by_role("link", name=link.item.title).click()
    page.get_by_role("link", name="Show the link").click()
    expect(page.get_by_text(link.url).first).to_be_visible()
    page.locator(".breadcrumbs").get_by_role("link", name=link.item.title).click()
    page.wait_for_url(f"**/o/{org.slug}/portal/audits/{audit.pk}/evidence/{link.item_id}/")
    expect(page.get_by_role("heading", name=link.item.title)).to_be_visible()

    # A request for information about that control.
    page.goto(f"/o/{org.slug}/portal/audits/{audit.pk}/")
    page.get_by_role("link", name="Requests for information").click()
    expect(page.get_by_text("No requests yet.")).to_be_visible()
    page.get_by_label("What you need").fill("Signed Q2 access review")
    page.get_by_label("Control (optional)").select_option(label="AC-01 Access reviews")
    due = timezone.localdate() + dt.timedelta(days=10)
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Raise request").click()
    expect(page.get_by_text("PBC-1 raised.")).to_be_visible()

    # The rest of the organization stays closed: a manager page sends the auditor back.
    page.goto(f"/o/{org.slug}/controls/")
    page.wait_for_url(f"**/o/{org.slug}/portal/")
    _sign_out(page)

    # The manager answers with the evidence.
    _sign_in(page, manager.user.email)
    page.goto(f"/o/{org.slug}/audits/{audit.pk}/")
    page.get_by_role("link", name="Auditor requests").click()
    page.get_by_role("link", name="PBC-1").click()
    # The picker lists each version by its item's title, then control and version number.
    pick = page.locator("label.pick", has_text=version.item.title)
    expect(pick).to_contain_text(f"AC-01 · v{version.number}")
    pick.get_by_role("checkbox").check()
    page.get_by_label("Note").fill("Signed by the CISO on 30 June.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("PBC-1 answered.")).to_be_visible()
    _sign_out(page)

    # The auditor reads the answer, comments and accepts.
    _sign_in(page, auditor.user.email)
    page.goto(f"/o/{org.slug}/portal/audits/{audit.pk}/requests/")
    page.get_by_role("link", name="PBC-1").click()
    expect(page.get_by_text(version.sha256)).to_be_visible()
    expect(page.get_by_text("Signed by the CISO on 30 June.")).to_be_visible()
    page.get_by_label("Comment").fill("Thank you, this is what we needed.")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_text("Comment added.")).to_be_visible()
    page.get_by_role("button", name="Accept the answer").click()
    expect(page.get_by_text("PBC-1 accepted.")).to_be_visible()
    page.locator(".breadcrumbs").get_by_role("link", name="Requests").click()
    page.get_by_label("Status").select_option(label="Open")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No open requests.")).to_be_visible()
    page.get_by_label("Status").select_option(label="Accepted")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="PBC-1")).to_be_visible()

    info = InfoRequest.objects.for_org(org).get()
    assert info.status == RequestStatus.ACCEPTED and info.control_id == control.pk
    assert RequestComment.objects.for_org(org).get().from_auditor
    assert AuditorAccess.objects.for_org(org).filter(membership=auditor, audit=audit).exists()
    downloads = ActivityEntry.objects.for_org(org).filter(action__contains="download")
    assert downloads.exists()
