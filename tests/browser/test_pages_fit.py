"""Every main page, for each role, at a laptop and a phone width: no page is wider than its
viewport (``document.documentElement.scrollWidth``), except inside the ``.table-scroll``
wrappers meant for it. Full-page screenshots go to $SCREENSHOT_DIR when set, for a person to
look at.

The demo organization (``seed_demo``) is the data, plus what overflows in real life: a control
and an evidence item whose titles are one long word, a file with a long name, a long link and
a long e-mail address. One browser context per role and viewport, signed in once.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from controls import services as control_services
from controls.demo import demo_member  # the demo's first member of a role
from controls.models import Control
from evidence import services as evidence_services
from monitoring import services as monitoring_services
from people import services as people_services
from policies import services as policy_services
from policies.models import PolicyVersion
from scim.tokens import scim_token_create
from sso import services as sso_services
from tenants import services as tenant_services
from tenants.apikeys import api_key_create
from tenants.context import org_scope
from tenants.models import Organization, Role
from tests.browser.pages_fit_urls import LONG_EMAIL, LONG_WORD, pages_for
from tests.browser.sessions import VIEWPORTS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_LINK = (
    "https://docs.acme.example.com/evidence/access-reviews/2026/quarter-two/"
    "production-databases/signed-off-by-the-head-of-engineering.pdf"
)


# What overflows, named for the failure message: elements reaching past the viewport's right
# edge that are not inside a wrapper meant to scroll sideways.
OVERFLOW_JS = """
() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".table-scroll")) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5) {
      const cls = el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "";
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls} (${Math.round(box.right)}px)`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, fits: document.documentElement.scrollWidth <= width, culprits: out.slice(-4)};
}
"""


def _overflowing_data(org: Organization) -> Control:
    """What makes pages overflow in real use, added through the services."""
    manager = demo_member(org, Role.COMPLIANCE_MANAGER)
    contributor = demo_member(org, Role.CONTRIBUTOR)
    owner = demo_member(org, Role.OWNER)
    control = control_services.control_create(
        membership=manager,
        code="LONG-01",
        title=LONG_WORD,
        control_type="procedural",
        frequency="quarterly",
        description=f"See {LONG_LINK}",
        owner=contributor,
        status="implemented",
        due_date=timezone.localdate() - dt.timedelta(days=3),
        criteria=["CC6.1"],
    )
    today = timezone.localdate()
    evidence_services.evidence_submit_file(
        membership=contributor,
        control=control,
        upload=SimpleUploadedFile(
            f"{LONG_WORD}-signed-export.pdf", b"%PDF-1.4\n% review\n", "application/pdf"
        ),
        effective_start=today - dt.timedelta(days=30),
        effective_end=today - dt.timedelta(days=1),
        title=f"{LONG_WORD}-file",
        description=LONG_LINK,
    )
    evidence_services.evidence_add_link(
        membership=contributor,
        control=control,
        url=LONG_LINK,
        effective_start=today - dt.timedelta(days=30),
        title=f"{LONG_WORD}-link",
    )
    tenant_services.invitation_create(membership=owner, email=LONG_EMAIL, role=Role.CONTRIBUTOR)
    api_key_create(membership=owner, name=f"{LONG_WORD}-key", role="read_only")
    # Single sign-on: a long domain and its token to publish.
    sso_services.domain_add(
        membership=owner, domain="every-production-database-account-and-its-owner.example.com"
    )
    scim_token_create(membership=owner, name=LONG_WORD)
    connection = monitoring_services.connection_create(
        membership=owner, kind="custom", name=f"{LONG_WORD}-tests"
    )
    monitoring_services.results_push(
        membership=manager,
        connection=connection,
        check=monitoring_services.CheckSpec(
            key=f"{LONG_WORD}-key", title=LONG_WORD, severity="high", controls=("LONG-01",)
        ),
        results=[
            monitoring_services.ResultSpec(
                resource=f"arn:aws:s3:::{LONG_WORD}", status="fail", details={"see": LONG_LINK}
            ),
            monitoring_services.ResultSpec(resource=LONG_LINK, status="pass"),
        ],
    )
    # A policy approved with a long word, a long link and a wide table, and its next draft.
    policy = policy_services.policy_adopt(membership=manager, key="access-control")
    policy_services.policy_settings(
        membership=manager, policy=policy, owner=manager, approver=owner, review_cadence_months=12
    )
    draft = PolicyVersion.objects.for_org(org).get(policy=policy)
    wide = "| " + " | ".join(f"Column {i} {LONG_WORD}" for i in range(6)) + " |\n"
    wide += "|" + "---|" * 6 + "\n" + "| " + " | ".join(["x"] * 6) + " |\n"
    policy_services.version_edit(
        membership=manager,
        version=draft,
        body=f"{draft.body}\n{LONG_WORD} {LONG_LINK}\n\n{wide}",
    )
    draft = policy_services.version_submit(membership=manager, version=draft)
    policy_services.version_approve(membership=owner, version=draft)
    policy_services.version_start(membership=manager, policy=policy)
    people_services.person_create(
        membership=manager,
        full_name=LONG_WORD,
        email=LONG_EMAIL,
        title=LONG_WORD,
        department=LONG_WORD[:120],
        start_date=today,
    )
    return control


def _check(page, label: str, out: Path | None, problems: list[str]) -> None:
    page.wait_for_load_state("load")
    if out is not None:
        page.screenshot(path=str(out / f"{label}.png"), full_page=True)
    if page.locator("option", has_text="---------").count():
        problems.append(f"{label}: a choice reads '---------' (say 'Any status', 'Nobody' ...)")
    result = page.evaluate(OVERFLOW_JS)
    if not result["fits"]:
        problems.append(f"{label}: {result['scroll']}px wide, {', '.join(result['culprits'])}")


def _visit_all(browser, base_url: str, email: str, pages: dict[str, str], tag: str, out):
    problems: list[str] = []
    for viewport, (width, height) in VIEWPORTS.items():
        context, page = signed_in_page(browser, base_url, email, viewport=(width, height))
        for name, path in pages.items():
            response = page.goto(path)
            status = response.status if response else 0
            assert status < 500, f"{tag} {name} ({path}): {status}"
            # A page refused to this role shows the refusal, which must fit too.
            label = f"{name}-{tag}-{viewport}"
            _check(page, label, out, problems)
            if name == "evidence-add" and status == 200:
                # The fields of the choice made, not both (static/js/evidence-form.js).
                assert page.locator("#id_file").is_visible()
                assert not page.locator("#id_url").is_visible()
                page.get_by_label("A link").check()
                assert page.locator("#id_url").is_visible()
                assert not page.locator("#id_file").is_visible()
                _check(page, f"{label}-link", out, problems)
        context.close()
    return problems


# One test per role (the demo's data made again for each): under xdist the roles' sweeps, ~60
# pages at two widths each, share the workers instead of one worker doing all four.
@pytest.mark.slow
@pytest.mark.parametrize("role", ["owner", "manager", "contributor", "auditor"])
def test_every_page_fits_its_viewport_for_every_role(browser, live_server, catalog, tmp_path, role):
    call_command("seed_demo")
    org = Organization.objects.get(slug="acme")
    with org_scope(org):
        long_control = _overflowing_data(org)
        pages = pages_for(role, org, long_control)
    directory = os.environ.get("SCREENSHOT_DIR")
    out = Path(directory) if directory else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    problems = _visit_all(browser, live_server.url, f"{role}@acme.example.com", pages, role, out)
    assert problems == [], "\n".join(problems)
