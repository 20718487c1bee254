"""What the browser tests of policies and training share: a Celery worker whose e-mail lands
in files (its outbox), the personal links read from those files, screenshots, and a person
without an account following their link on a phone."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path

import pytest

from soc2app.celery import app as celery_app
from tests.browser.sessions import VIEWPORTS
from tests.workers import celery_worker


@pytest.fixture
def mail_worker(tmp_path):
    """A worker whose e-mail lands in files (its outbox), on the queue the app sends to; the
    tasks it queues itself (one per batch of links) go to that queue too."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    queue = f"test-links-{uuid.uuid4().hex[:12]}"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    with celery_worker(tmp_path, "test-links", queue=queue, **env):
        default_queue = celery_app.conf.task_default_queue
        celery_app.conf.task_default_queue = queue
        try:
            yield outbox
        finally:
            celery_app.conf.task_default_queue = default_queue


def links_in(outbox: Path, prefix: str) -> dict[str, str]:
    """Recipient -> the path of the personal link under ``prefix`` (e.g. ``/accept/``) in
    the messages the worker wrote."""
    pattern = re.compile(rf"https?://[^/\s]+({re.escape(prefix)}\S+/)")
    found = {}
    for path in outbox.glob("*.log"):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not raw.strip():
                continue
            message = message_from_bytes(raw.strip())
            match = pattern.search(message.get_payload(decode=True).decode())
            if match:
                found[message["To"]] = match.group(1)
    return found


def screenshots(prefix: str) -> Callable:
    """``shot(page, name)``: a full-page screenshot in $SCREENSHOT_DIR when set."""
    directory = os.environ.get("SCREENSHOT_DIR")
    out = Path(directory) if directory else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        if out is not None:
            page.screenshot(path=str(out / f"{prefix}-{name}.png"), full_page=True)

    return shot


def open_on_phone(browser, live_server, path: str, heading: str, shot: Callable):
    """A person without an account opens their link on a phone: (context, page)."""
    width, height = VIEWPORTS["phone"]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    page.goto(path)
    assert heading in page.locator("h1").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "employee-link")
    return context, page


def confirm_once(context, page, path: str, button: str, shot: Callable) -> None:
    """Tick, confirm, see the thanks; the same link again is refused as used."""
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=button).click()
    assert "Thank you" in page.locator("h1").inner_text()
    shot(page, "employee-done")
    page.goto(path)
    assert "used already" in page.content()
    context.close()
