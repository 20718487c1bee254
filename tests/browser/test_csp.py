"""Pages work under the Content-Security-Policy: Chromium reports no violation (and no other
console error) on the key pages, the htmx-driven ones and the API docs included."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from controls.models import Audit
from reports.models import AuditorAccess
from tenants.management.commands.seed_demo import DEMO_PASSWORD
from tenants.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.slow
def test_key_pages_raise_no_csp_violation(page, browser, live_server, catalog):
    call_command("seed_demo")
    org = Organization.objects.get(slug="acme")
    audits = list(Audit.objects.for_org(org).values_list("pk", flat=True))
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"{page.url}: {msg.text}") if msg.type == "error" else None,
    )
    # Also caught when the console says nothing: the DOM event every violation fires.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("manager@acme.example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/o/acme/")

    paths = [
        "/o/acme/",
        "/o/acme/members/",
        "/o/acme/activity/",
        "/o/acme/controls/",
        "/o/acme/audits/",
        *[f"/o/acme/audits/{pk}/" for pk in audits],
        *[f"/o/acme/reports/audits/{pk}/" for pk in audits],
        *[f"/o/acme/reports/audits/{pk}/requests/" for pk in audits],
        "/o/acme/evidence/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",  # the QR code is a data: image
    ]
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        page.wait_for_load_state("networkidle")

    # An audit's period bars get their widths from app.js (no style attribute).
    page.goto(f"/o/acme/audits/{audits[0]}/")
    grown = page.eval_on_selector_all(
        "[data-grow]", "els => els.filter(e => e.style.flexGrow !== '').length"
    )
    total = page.eval_on_selector_all("[data-grow]", "els => els.length")
    assert grown == total

    # The API docs render Swagger UI from files only.
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    page.wait_for_load_state("networkidle")

    # The auditor's side: the portal and its requests for information.
    context = browser.new_context(base_url=live_server.url)
    auditor = context.new_page()
    auditor.on(
        "console",
        lambda msg: problems.append(f"{auditor.url}: {msg.text}") if msg.type == "error" else None,
    )
    auditor.goto("/accounts/login/")
    auditor.get_by_label("Email").fill("auditor@acme.example.com")
    auditor.get_by_label("Password").fill(DEMO_PASSWORD)
    auditor.get_by_role("button", name="Sign In").click()
    auditor.wait_for_load_state("networkidle")
    granted = list(AuditorAccess.objects.for_org(org).values_list("audit_id", flat=True))
    assert granted
    portal = [f"/o/acme/portal/audits/{pk}/" for pk in granted]
    for path in ["/o/acme/portal/", *portal, *[p + "requests/" for p in portal]]:
        auditor.goto(path)
        auditor.wait_for_load_state("networkidle")
    context.close()

    assert problems == []
