from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from people.models import Person
from tenants.activity import Actor
from tenants.models import Role
from tests.api.conftest import api_for, key_client, make_audit  # noqa: F401 (fixtures)
from tests.factories import ControlFactory
from training import links, services
from training.models import CompletionSource


def person(org, name: str, department: str = "Engineering", **values) -> Person:
    start = values.pop("start_date", dt.date(2024, 1, 1))
    return Person.objects.create(
        organization=org,
        full_name=name,
        email=f"{name.lower()}@example.com",
        department=department,
        start_date=start,
        **values,
    )


def done(org, who, req, day: dt.date):
    """A completion of ``req`` by ``who`` on ``day``, as an import records it."""
    return services.completion_record(
        organization=org,
        person=who,
        requirement=req,
        completed_on=day,
        source=CompletionSource.IMPORT,
        actor=Actor.system("test"),
    )


def links_in_outbox() -> dict[str, str]:
    """E-mail address -> the path of the personal training link sent to it (the last)."""
    found = {}
    for message in mail.outbox:
        match = re.search(r"https?://[^/\s]+(/training-link/[^\s]+/)", message.body)
        if match:
            found[message.to[0]] = match.group(1)
    return found


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def module(org, manager):
    ControlFactory(organization=org, code="HR-03", title="Security awareness training")
    return services.requirement_adopt(membership=manager, key="security-awareness")


@pytest.fixture
def course(org, manager):
    return services.requirement_create(
        membership=manager, title="Secure coding", due_days=60, every_months=0
    )


def assign_everyone(manager, req, captured) -> links.SendResult:
    with captured(execute=False) as callbacks:
        services.assignment_add(membership=manager, requirement=req, target="everyone")
    assert len(callbacks) == 1  # the sending task is queued on commit
    return links.links_send(req)
