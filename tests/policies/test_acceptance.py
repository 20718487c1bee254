"""Assigning a policy and accepting it through a personal link: the e-mail, the page, the
immutable record; expiry, reuse, a leaver, another organization's link, a tampered token, a
new version asking again; the managers' overview and export."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from policies import acceptance, links, services
from policies.markdown import substitute, text_sha256
from policies.models import Acceptance, AcceptanceLink, PolicyVersion
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db


def person(org, name: str, department: str = "Engineering", **values) -> Person:
    email = f"{name.lower()}@example.com"
    start = values.pop("start_date", dt.date(2024, 1, 1))
    return Person.objects.create(
        organization=org,
        full_name=name,
        email=email,
        department=department,
        start_date=start,
        **values,
    )


def links_in_outbox() -> dict[str, str]:
    """E-mail address -> the path of the personal link in the message sent to it."""
    found = {}
    for message in mail.outbox:
        match = re.search(r"https?://[^/\s]+(/accept/[^\s]+/)", message.body)
        found[message.to[0]] = match.group(1)
    return found


@pytest.fixture
def approved(org, manager, approver, adopted):
    approve(manager, approver, adopted)
    return adopted


def _assign(manager, policy, captured, **kwargs):
    with captured(execute=False) as callbacks:
        acceptance.assignment_add(membership=manager, policy=policy, **kwargs)
    assert len(callbacks) == 1  # the sending task is queued on commit
    return links.links_send(acceptance.current_version(policy))


def _accept(client, path: str, org):
    page = client.get(path)
    assert page.status_code == 200, page.content[:300]
    shown = re.search(rb'name="shown" value="([0-9a-f]{64})"', page.content).group(1).decode()
    return client.post(path, {"agree": "yes", "shown": shown}, HTTP_USER_AGENT="pytest-browser")


def test_a_department_is_asked_and_one_person_accepts(
    org, manager, approved, client, django_capture_on_commit_callbacks
):
    ana, bo = person(org, "Ana"), person(org, "Bo")
    person(org, "Cy", department="Sales")
    result = _assign(
        manager,
        approved,
        django_capture_on_commit_callbacks,
        target="department",
        department="Engineering",
    )
    assert result.sent == 2 and sorted(links_in_outbox()) == [ana.email, bo.email]
    assert mail.outbox[0].subject.endswith("please read and accept the Access Control Policy")
    path = links_in_outbox()[ana.email]
    response = _accept(client, path, org)
    assert response.status_code == 200 and b"Thank you" in response.content
    record = Acceptance.objects.for_org(org).get()
    version = PolicyVersion.objects.for_org(org).get(policy=approved)
    assert record.person == ana and record.version == version
    assert record.text_sha256 == text_sha256(substitute(version.body, org.name))
    assert record.ip_address == "127.0.0.1" and record.user_agent == "pytest-browser"
    assert "I will follow it" in record.consent and record.channel == "link"
    # The link works once; a second run of the sender asks nobody again.
    assert client.get(path).status_code == 410
    assert links.links_send(version).sent == 0


def test_expired_tampered_foreign_and_leavers_links_are_refused(
    org, other_org, manager, approved, client, django_capture_on_commit_callbacks
):
    ana, bo = person(org, "Ana"), person(org, "Bo")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    links = links_in_outbox()
    token = links[ana.email].rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/accept/{org.slug}/{token}x/").status_code == 404
    assert client.get(f"/accept/{other_org.slug}/{token}/").status_code == 404
    assert client.get(f"/accept/{org.slug}/{'a' * 300}/").status_code == 404
    AcceptanceLink.objects.for_org(org).filter(person=ana).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(links[ana.email]).status_code == 410
    Person.objects.for_org(org).filter(pk=bo.pk).update(
        end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert client.get(links[bo.email]).status_code == 410
    assert not Acceptance.objects.for_org(org).exists()


def test_the_box_must_be_ticked_and_the_text_must_be_the_one_shown(
    org, manager, approved, client, django_capture_on_commit_callbacks
):
    ana = person(org, "Ana")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="person", person=ana)
    path = links_in_outbox()[ana.email]
    assert client.post(path, {"shown": "0" * 64}).status_code == 400
    assert client.post(path, {"agree": "yes", "shown": "0" * 64}).status_code == 400
    assert not Acceptance.objects.for_org(org).exists()
    assert client.get(path).status_code == 200  # nothing used the link up


def test_a_new_version_asks_again_and_retires_the_old_links(
    org, manager, approver, approved, client, django_capture_on_commit_callbacks
):
    ana = person(org, "Ana")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    _accept(client, links_in_outbox()[ana.email], org)
    bo = person(org, "Bo")
    old_version = acceptance.current_version(approved)
    links.links_send(old_version)
    old_link_for_bo = links_in_outbox()[bo.email]
    v2 = services.version_start(membership=manager, policy=approved)
    services.version_edit(membership=manager, version=v2, body=v2.body + "\n2. New rule.\n")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approve(manager, approver, approved)
    assert len(callbacks) == 1
    assert links.links_send(acceptance.current_version(approved)).sent == 2
    assert client.get(old_link_for_bo).status_code == 410
    response = _accept(client, links_in_outbox()[ana.email], org)
    assert response.status_code == 200
    assert Acceptance.objects.for_org(org).filter(person=ana).count() == 2


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_an_acceptance(
    org, manager, approved, client, django_capture_on_commit_callbacks
):
    ana = person(org, "Ana")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    _accept(client, links_in_outbox()[ana.email], org)
    rows = Acceptance.objects.for_org(org)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        rows.update(ip_address="10.0.0.1")
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        rows.delete()


def test_the_public_page_is_rate_limited(org, settings, client):
    settings.POLICY_LINK_RATE_PER_IP = 3
    codes = [client.get(f"/accept/{org.slug}/nothing/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_managers_see_who_accepted_and_export_it(
    org,
    manager,
    approved,
    client,
    client_for,
    contributor,
    outsider,
    django_capture_on_commit_callbacks,
):
    ana, _bo = person(org, "Ana"), person(org, "Bo")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    _accept(client, links_in_outbox()[ana.email], org)
    url = reverse("policy_acceptance", kwargs={"org_slug": org.slug, "pk": approved.pk})
    page = client_for(manager).get(url).content.decode()
    assert "1 of 2" in page and "Ana" in page and "Asked" in page
    csv = client_for(manager).get(url + "?format=csv").content.decode()
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("Name,E-mail") and "127.0.0.1" in csv
    assert client_for(contributor).get(url).status_code == 403
    theirs = reverse(
        "policy_acceptance", kwargs={"org_slug": outsider.organization.slug, "pk": approved.pk}
    )
    assert client_for(outsider).get(theirs).status_code == 404


def test_a_member_sees_the_policy_on_their_home_and_accepts_in_the_app(
    org, manager, approved, contributor, client_for, django_capture_on_commit_callbacks
):
    me = person(org, "Cora", membership=contributor)
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    client = client_for(contributor)
    home = client.get(reverse("org_home", kwargs={"org_slug": org.slug})).content.decode()
    assert "Read and accept the Access Control Policy" in home
    url = reverse("policy_accept_in_app", kwargs={"org_slug": org.slug, "pk": approved.pk})
    page = client.get(url)
    shown = re.search(rb'name="shown" value="([0-9a-f]{64})"', page.content).group(1).decode()
    assert client.post(url, {"agree": "yes", "shown": shown}).status_code == 302
    record = Acceptance.objects.for_org(org).get()
    assert record.person == me and record.channel == "app"
    home = client.get(reverse("org_home", kwargs={"org_slug": org.slug})).content.decode()
    assert "Read and accept the Access Control Policy" not in home
    # Their e-mailed link is used up by the acceptance in the app.
    assert AcceptanceLink.objects.for_org(org).get(person=me).used_at is not None
    assert client.post(url, {"agree": "yes", "shown": shown}).status_code == 400


def test_the_approver_and_the_owner_see_their_policy_work(
    org, manager, approver, adopted, client_for
):
    version = PolicyVersion.objects.for_org(org).get(policy=adopted)
    services.version_submit(membership=manager, version=version)
    home = client_for(approver).get(reverse("org_home", kwargs={"org_slug": org.slug}))
    assert "Approve or return v1 of the Access Control Policy" in home.content.decode()
    approve(manager, approver, adopted)
    type(adopted).objects.for_org(org).filter(pk=adopted.pk).update(
        next_review_date=timezone.localdate() - dt.timedelta(days=1)
    )
    home = client_for(manager).get(reverse("org_home", kwargs={"org_slug": org.slug}))
    assert "Review the Access Control Policy" in home.content.decode()


def test_the_daily_run_asks_joiners_and_reminds_three_times_at_most(
    org, manager, approved, client, settings, django_capture_on_commit_callbacks
):
    from policies.tasks import policy_links_daily

    ana = person(org, "Ana")
    _assign(manager, approved, django_capture_on_commit_callbacks, target="everyone")
    first_link = links_in_outbox()[ana.email]
    bo = person(org, "Bo")  # joins after the policy was sent
    mail.outbox.clear()
    assert policy_links_daily() == 1 and list(links_in_outbox()) == [bo.email]
    # A week later Ana has not accepted: a reminder with a new link; the old one is retired.
    AcceptanceLink.objects.for_org(org).update(sent_at=timezone.now() - dt.timedelta(days=8))
    mail.outbox.clear()
    assert policy_links_daily() == 2
    assert all(m.subject.startswith("Reminder: ") for m in mail.outbox)
    assert client.get(first_link).status_code == 404
    assert _accept(client, links_in_outbox()[ana.email], org).status_code == 200
    for _ in range(4):
        AcceptanceLink.objects.for_org(org).update(sent_at=timezone.now() - dt.timedelta(days=8))
        policy_links_daily()
    assert AcceptanceLink.objects.for_org(org).get(person=bo).reminders == 3
