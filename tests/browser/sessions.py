"""Signed-in browser pages for the screen tests: a context at a viewport, console errors
collected (CSP violations included), the demo password typed into the real sign-in form."""

from __future__ import annotations

from tenants.management.commands.seed_demo import DEMO_PASSWORD

# A laptop and a phone: no page may scroll sideways at either width.
VIEWPORTS = {"laptop": (1366, 900), "phone": (390, 844)}


def signed_in_page(
    browser,
    base_url: str,
    email: str,
    *,
    viewport: tuple[int, int] = VIEWPORTS["laptop"],
    problems: list[str] | None = None,
    password: str = DEMO_PASSWORD,
):
    """(context, page) signed in as ``email``; the caller closes the context. Console errors
    go to ``problems`` (prefixed with the e-mail and the page's address) when given."""
    width, height = viewport
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    if problems is not None:
        page.on(
            "console",
            lambda msg: (
                problems.append(f"{email} {page.url}: {msg.text}") if msg.type == "error" else None
            ),
        )
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    return context, page
