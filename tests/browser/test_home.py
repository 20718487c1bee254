"""Each role's home at a laptop and a phone width: screenshots (kept in $SCREENSHOT_DIR when
set, for a person to look at), no horizontal scrolling, no console error (CSP included)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from controls.history import readiness_snapshots_take_all
from tenants.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": (1366, 900), "phone": (390, 844)}
ROLES = ("owner", "manager", "contributor")


def test_each_roles_home_fits_its_viewport(browser, live_server, catalog, tmp_path):
    call_command("seed_demo")
    today = timezone.localdate()
    for days in (21, 14, 7, 0):  # a month of readiness for the trend lines
        readiness_snapshots_take_all(today=today - dt.timedelta(days=days))
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in ROLES:
        for name, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                base_url=live_server.url, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on(
                "console",
                lambda msg, r=role: (
                    problems.append(f"{r}: {msg.text}") if msg.type == "error" else None
                ),
            )
            page.goto("/accounts/login/")
            page.get_by_label("Email").fill(f"{role}@acme.example.com")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign In").click()
            page.wait_for_url("**/o/acme/")
            page.wait_for_load_state("networkidle")
            assert page.locator("#todo-title").is_visible()
            page.screenshot(path=str(out / f"home-{role}-{name}.png"), full_page=True)
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert fits, f"{role} home at {width}px is {scroll}px wide"
            context.close()
    assert problems == []
