"""The wizard's controls step assigns nobody silently: the owner defaults to the person
running it, and the button says how many controls the click adopts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_controls_step_defaults_owner_to_you_and_counts(org, manager, make_audit, client_for):
    audit = make_audit(org, as_of=dt.date(2026, 6, 30))
    page = client_for(manager).get(reverse("audit_step", args=[org.slug, audit.pk, "controls"]))
    assert page.status_code == 200
    suggested = len(page.context["suggested"])
    assert suggested > 1
    html = page.content.decode()
    owner_select = html.split('id="adopt-owner"')[1].split("</select>")[0]
    assert re.search(rf'<option value="{manager.pk}" selected>[^<]*\(you\)', owner_select)
    assert '<option value="">Nobody yet</option>' in owner_select  # no longer the default
    assert re.search(rf"Adopt <span data-count>{suggested}</span> control<span data-plural>s", html)
