"""A previewed import file is held where every web process finds it (never a per-process memory
cache), for its organization, user and kind of import only."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from soc2app import csv_pending


def test_previews_are_not_kept_in_a_per_process_cache():
    assert not isinstance(caches["imports"], LocMemCache)


def test_a_held_file_is_found_only_by_its_kind_organization_and_user():
    scope = {"kind": "vendors", "org_id": 1, "user_id": 2}
    token = csv_pending.pending_put(**scope, data=b"name\nA\n", name="v.csv")
    held = csv_pending.pending_get(**scope, token=token)
    assert held is not None and held.data == b"name\nA\n" and held.name == "v.csv"
    for other in ({"kind": "people"}, {"org_id": 3}, {"user_id": 4}):
        assert csv_pending.pending_get(**(scope | other), token=token) is None
    assert csv_pending.pending_get(**scope, token="../../etc/passwd") is None
    csv_pending.pending_drop(**scope, token=token)
    assert csv_pending.pending_get(**scope, token=token) is None
