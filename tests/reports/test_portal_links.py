"""The auditor portal's links: whatever an auditor can click on a portal page leads to a portal
page that opens (a link to a members' page would only bounce them back to the portal home, as
the breadcrumbs of link-type evidence once did)."""

from __future__ import annotations

import re

import pytest

from reports import pbc
from tests.reports.portal_world import _portal_urls, _request, _url, world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_every_link_on_portal_pages_stays_in_the_portal(world, client_for):  # noqa: F811
    """What an auditor can click (below the top bar) leads to a portal page that opens: a link
    to a members' page would only bounce them back to the portal home."""
    w = world
    info = _request(w)
    pbc.request_answer(membership=w.manager, request=info, version_ids=[w.version.pk, w.link.pk])
    client = client_for(w.auditor)
    org_prefix = f"/o/{w.org.slug}/"
    pages = [
        _url("portal_home", w.org),
        *_portal_urls(w, w.audit, w.control, w.version, w.report, info),
        _url("portal_evidence_item", w.org, audit_pk=w.audit.pk, pk=w.link.item_id),
        _url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.link.pk),
    ]
    seen: set[str] = set()
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        if not response["Content-Type"].startswith("text/html"):
            continue
        body = response.content.decode().split("</header>", 1)[1]
        for href in re.findall(r'href="([^"#]+)"', body):
            href = href.replace("&amp;", "&")
            if href.startswith(org_prefix):
                assert href.startswith(f"{org_prefix}portal/"), (page, href)
                seen.add(href.split("?")[0])
    assert len(seen) >= 8
    for href in sorted(seen):
        assert client.get(href).status_code == 200, href


def test_the_organization_switcher_takes_an_auditor_to_the_portal(world, client_for):  # noqa: F811
    w = world
    header = client_for(w.auditor).get(_url("portal_home", w.org)).content.decode()
    header = header.split("</header>", 1)[0]
    assert f'href="/o/{w.org.slug}/portal/"' in header
    assert f'href="/o/{w.org.slug}/"' not in header
    manager_header = client_for(w.manager).get(f"/o/{w.org.slug}/").content.decode()
    assert f'href="/o/{w.org.slug}/"' in manager_header.split("</header>", 1)[0]
