from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.activity import Actor, activity_record
from tenants.models import ActivityEntry


def _record(org, n):
    for i in range(n):
        activity_record(
            organization=org, actor=Actor.system(), action="update", object_type="demo", object_id=i
        )


@pytest.mark.django_db
def test_entries_cannot_be_changed_or_deleted(org):
    _record(org, 1)
    entry = ActivityEntry.objects.for_org(org).get()
    entry.action = "tampered"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        ActivityEntry.objects.for_org(org).update(action="x")
    with pytest.raises(TypeError):
        ActivityEntry.objects.for_org(org).delete()
    assert ActivityEntry.objects.for_org(org).get().action == "update"


@pytest.mark.django_db
def test_activity_page_paginates_in_constant_queries(
    org, manager, other_org, client_for, django_assert_num_queries
):
    _record(other_org, 3)
    client = client_for(manager)
    url = reverse("activity", args=[org.slug])
    _record(org, 5)
    client.get(url)  # warm the session
    # session, user, membership+organization, count, page rows, switcher memberships
    with django_assert_num_queries(6):
        small = client.get(url)
    _record(org, 120)
    with django_assert_num_queries(6):
        big = client.get(url)
    assert small.status_code == big.status_code == 200
    assert len(big.context["page"].object_list) == 50
    assert big.context["page"].paginator.count == 125
    assert "Page 1 of 3" in big.content.decode()
    assert client.get(url + "?page=999").context["page"].number == 3
    assert client.get(url + "?page=abc").status_code == 200
