"""The trust center end to end (issue 19): an owner publishes it with two controls and a
private document; an anonymous visitor (a separate browser context, on a phone) requests the
document and accepts the NDA; the owner approves; the visitor downloads it through the link
from the e-mail (caught by a real SMTP server on loopback), watermarked with their e-mail; the
activity log shows each step. The public page and the settings fit 1366 and 390 px without
sideways scrolling or console (CSP) errors; screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time

import pytest
from django.utils import timezone

from tenants.models import Role
from tests.browser.personal_links import screenshots
from tests.browser.sessions import VIEWPORTS
from tests.browser.test_monitoring import _fits, _login
from tests.controls.conftest import make_audit  # noqa: F401 (fixture)
from tests.factories import ControlFactory, MembershipFactory, control_map, evidence_row
from tests.smtp_server import smtp_server
from tests.trust.conftest import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def _mailed_link(server, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in server.messages:
            body = message.get_payload(decode=True).decode()
            found = re.search(r"https?://[^/\s]+(/trust/\S+/download/\S+/)", body)
            if found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no download link was e-mailed")


def test_publish_request_approve_download_and_the_activity_log(
    browser,
    live_server,
    catalog,
    make_audit,  # noqa: F811
    settings,
    tmp_path,
):
    shot = screenshots("trust")
    owner = MembershipFactory(role=Role.OWNER, user__email="owner@trust-browser.example.com")
    org = owner.organization
    today = timezone.localdate()
    audit = make_audit(org, as_of=today)
    green = control_map(
        ControlFactory(organization=org, code="AC-1", title="Access reviews", created_at=LONG_AGO),
        "CC6.1",
    )
    evidence_row(green, today - dt.timedelta(days=30), today - dt.timedelta(days=1))
    control_map(
        ControlFactory(
            organization=org, code="AC-2", title="Encryption at rest", created_at=LONG_AGO
        ),
        "CC6.7",
    )
    ControlFactory(organization=org, code="AC-3", title="Not for the public")
    report = tmp_path / "soc2-type1-report.pdf"
    report.write_bytes(pdf_bytes("Confidential SOC 2 report"))

    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False

        # The owner publishes: the page, two controls, a private document.
        context, page, problems = _login(browser, live_server.url, owner.user.email)
        page.goto(f"/o/{org.slug}/")
        page.get_by_role("link", name="Trust center").click()
        page.wait_for_load_state()
        assert "Not published" in page.content()
        page.get_by_label("Address").fill("acme-trust")
        page.get_by_label("Headline").fill("Acme keeps your data safe")
        page.get_by_label("Audit shown").select_option(str(audit.pk))
        page.get_by_label("Published: anyone can open the page").check()
        page.get_by_role("button", name="Save the page").click()
        page.wait_for_load_state()
        assert "Trust center saved." in page.content()
        page.get_by_label("AC-1 Access reviews").check()
        page.get_by_label("AC-2 Encryption at rest").check()
        page.get_by_role("button", name="Save controls shown").click()
        page.wait_for_load_state()
        assert "Controls shown saved." in page.content()
        page.get_by_label("Title").fill("SOC 2 Type 1 report")
        page.get_by_label("Private: on request, after the NDA").check()
        page.locator("input[name=file]").set_input_files(str(report))
        page.get_by_role("button", name="Add the document").click()
        page.wait_for_load_state()
        assert "SOC 2 Type 1 report added." in page.content()
        assert _fits(page)
        shot(page, "settings-laptop")

        # An anonymous visitor, on a phone, requests the document under the NDA.
        width, height = VIEWPORTS["phone"]
        visitor = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        vpage = visitor.new_page()
        vpage.set_default_timeout(15_000)
        vproblems: list[str] = []
        vpage.on("console", lambda m: vproblems.append(m.text) if m.type == "error" else None)
        vpage.goto("/trust/acme-trust/")
        text = vpage.locator("main").inner_text()
        assert "Acme keeps your data safe" in text
        assert "Access reviews" in text and "Encryption at rest" in text
        assert "Not for the public" not in text
        assert vpage.locator(".trust-controls .trust-dot.green").count() == 1
        assert vpage.locator(".trust-controls .trust-dot.amber").count() == 1
        assert _fits(vpage)
        shot(vpage, "public-phone")
        vpage.get_by_role("link", name="Request access").click()
        vpage.wait_for_load_state()
        vpage.get_by_label("Your name").fill("Ana Buyer")
        vpage.get_by_label("Work e-mail").fill("ana@buyer.example.com")
        vpage.get_by_label("Company").fill("Buyer Inc")
        vpage.get_by_label("I accept the NDA above").check()
        assert _fits(vpage)
        shot(vpage, "request-phone")
        vpage.get_by_role("button", name="Accept the NDA and request").click()
        vpage.wait_for_load_state()
        assert "Thank you" in vpage.locator("h1").inner_text()
        assert not server.messages  # nothing sent before the approval

        # The owner approves it on the Requests page (the home lists it to do).
        page.goto(f"/o/{org.slug}/")
        assert "Decide 1 request for trust center documents" in page.content()
        page.goto(f"/o/{org.slug}/settings/trust/requests/")
        assert _fits(page)
        shot(page, "requests-laptop")
        page.get_by_role("button", name="Approve ana@buyer.example.com").click()
        page.wait_for_load_state()
        assert "approved: the download link is on its way" in page.content()

        # The visitor downloads it through the e-mailed link: watermarked with them.
        link = _mailed_link(server)
        got = visitor.request.get(link)
        assert got.status == 200 and got.headers["content-type"] == "application/pdf"
        pdf_text = subprocess.run(  # noqa: S603 (fixed arguments)
            ["/usr/bin/pdftotext", "-", "-"], input=got.body(), capture_output=True, check=True
        ).stdout.decode()
        assert f"Provided to ana@buyer.example.com, Buyer Inc, on {today:%-d %b %Y}" in pdf_text
        assert "Confidential SOC 2 report" in pdf_text
        assert vproblems == []
        visitor.close()

        # The activity log shows each step.
        page.goto(f"/o/{org.slug}/activity/")
        log = page.locator("main").inner_text()
        for step in ("Requested", "Accepted the NDA of", "Approved", "Downloaded"):
            assert step in log, step
        assert "ana@buyer.example.com" in log
        assert problems == []
        context.close()

    # Both widths: the public page and the settings.
    for viewport, (width, height) in VIEWPORTS.items():
        ctx, owner_page, owner_problems = _login(
            browser, live_server.url, owner.user.email, width, height
        )
        for path, name in (
            (f"/o/{org.slug}/settings/trust/", "settings"),
            ("/trust/acme-trust/", "public"),
        ):
            owner_page.goto(path)
            owner_page.wait_for_load_state()
            assert _fits(owner_page), f"{name} at {viewport} scrolls sideways"
            shot(owner_page, f"{name}-{viewport}")
        assert owner_problems == []
        ctx.close()
