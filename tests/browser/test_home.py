"""Each role's home at a laptop and a phone width: the to-do items the demo data gives that
role (and not another's), screenshots (kept in $SCREENSHOT_DIR when set, for a person to look
at), no horizontal scrolling, no console error (CSP included)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from controls.demo import demo_member  # the demo's first member of a role
from controls.history import readiness_snapshots_take_all
from controls.models import Control, ControlStatus
from reports.models import InfoRequest
from tenants.context import org_scope
from tenants.models import Organization, Role
from tests.browser.sessions import VIEWPORTS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


ROLES = ("owner", "manager", "contributor")


def _first_overdue(org: Organization, role: str, today: dt.date) -> str:
    """The to-do title of the member's unfinished control longest past its due date."""
    control = (
        Control.objects.for_org(org)
        .filter(
            owner=demo_member(org, role),
            status__in=(ControlStatus.NOT_STARTED, ControlStatus.IN_PROGRESS),
            due_date__lt=today,
        )
        .order_by("due_date", "code")
        .first()
    )
    return f"Implement {control.code} {control.title}"


def _expected(org: Organization, today: dt.date) -> dict[str, tuple[list[str], list[str]]]:
    """Per role: to-do titles its home must list, and titles it must not (another's work).
    Read from the demo rows, so a change to the demo data moves the expectations with it."""
    access = InfoRequest.objects.for_org(org).get(title="Population of user access changes")
    request = f"Answer PBC-{access.number}: {access.title}"  # about no control: answerers only
    contributor = demo_member(org, Role.CONTRIBUTOR)
    # In progress, owned by the contributor and without any evidence yet.
    bare = (
        Control.objects.for_org(org)
        .filter(owner=contributor, status=ControlStatus.IN_PROGRESS, evidence_items__isnull=True)
        .order_by("code")
        .first()
    )
    managers_control = _first_overdue(org, Role.COMPLIANCE_MANAGER, today)
    contributors_control = _first_overdue(org, Role.CONTRIBUTOR, today)
    assert not Control.objects.for_org(org).filter(owner=demo_member(org, Role.OWNER)).exists()
    return {
        "owner": ([request, "Review * pieces of evidence"], [managers_control, "Implement *"]),
        "manager": (
            [managers_control, request, "Review * pieces of evidence"],
            [contributors_control],
        ),
        "contributor": (
            [contributors_control, f"Add evidence for {bare.code} {bare.title}"],
            [managers_control, request, "Review * pieces of evidence"],
        ),
    }


def _listed(pattern: str, titles: list[str]) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".+")
    return any(re.fullmatch(regex, title) for title in titles)


@pytest.mark.slow
def test_each_roles_home_fits_its_viewport(browser, live_server, catalog, tmp_path):
    call_command("seed_demo")
    today = timezone.localdate()
    for days in (21, 14, 7, 0):  # a month of readiness for the trend lines
        readiness_snapshots_take_all(today=today - dt.timedelta(days=days))
    org = Organization.objects.get(slug="acme")
    with org_scope(org):
        expected = _expected(org, today)
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in ROLES:
        for name, (width, height) in VIEWPORTS.items():
            context, page = signed_in_page(
                browser,
                live_server.url,
                f"{role}@acme.example.com",
                viewport=(width, height),
                problems=problems,
            )
            page.wait_for_url("**/o/acme/")
            page.wait_for_load_state("networkidle")
            assert page.locator("#todo-title").is_visible()
            # Every item, the ones behind "Show N more" included (text, not visibility).
            titles = [
                t.strip() for t in page.locator(".todo-item .todo-main > a").all_text_contents()
            ]
            wanted, unwanted = expected[role]
            for pattern in wanted:
                assert _listed(pattern, titles), f"{role}'s home lacks {pattern!r}: {titles}"
            for pattern in unwanted:
                assert not _listed(pattern, titles), f"{role}'s home lists {pattern!r}"
            page.screenshot(path=str(out / f"home-{role}-{name}.png"), full_page=True)
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert fits, f"{role} home at {width}px is {scroll}px wide"
            context.close()
    assert problems == []
