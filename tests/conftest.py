from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from tenants import rls
from tenants.models import Membership, Organization, Role
from tests import system_role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.xdist_env import (  # noqa: F401  (per-worker env, slow tests first, groups under -n)
    pytest_collection_modifyitems,
    pytest_configure_node,
    pytest_xdist_make_scheduler,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the shipped catalog once: tests roll back around it (transactional ones run last
    and reload it through the ``catalog`` fixture when they need it). On PostgreSQL, the
    test system role (``tests.system_role``) too."""
    from criteria.catalog import catalog_load

    with django_db_blocker.unblock():
        catalog_load()
        if connection.vendor == "postgresql":
            system_role.create(connection)
    # System statements share each test's connection (``tenants.rls.system_alias``), on the
    # test system role when the test body's role is bound by row-level security.
    rls.shared_connection_role = system_role.switch_role


@pytest.fixture
def catalog(db):
    """The default framework of the shipped catalog."""
    from criteria.catalog import catalog_load
    from criteria.models import Framework

    framework = Framework.objects.filter(key=settings.CATALOG_FRAMEWORK).first()
    if framework is None:
        catalog_load()
        framework = Framework.objects.get(key=settings.CATALOG_FRAMEWORK)
    return framework


def _needs(item: pytest.Item, what: str, available: bool, reason: str) -> None:
    if item.get_closest_marker(what) is None or available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    is_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    _needs(item, "postgres", is_pg, "needs PostgreSQL (set DATABASE_URL=postgres://...)")
    is_redis = settings.CELERY_BROKER_URL.startswith("redis://")
    _needs(item, "redis", is_redis, "needs a Redis broker (set CELERY_BROKER_URL=redis://...)")
    has_clamd = bool(os.environ.get("CLAMAV_HOST") or os.environ.get("CLAMAV_SOCKET"))
    _needs(
        item,
        "clamav",
        has_clamd,
        "needs a reachable clamd (set CLAMAV_HOST and CLAMAV_PORT, or CLAMAV_SOCKET)",
    )
    _needs(
        item,
        "nginx",
        shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin") is not None,
        "needs nginx (apt-get install nginx)",
    )
    _needs(
        item,
        "prowler",
        os.access(settings.PROWLER_BIN, os.X_OK),
        f"needs Prowler in its own environment at {settings.PROWLER_BIN} "
        "(scripts/prowler-env.sh, or set PROWLER_BIN)",
    )
    _needs(
        item,
        "browser",
        os.path.exists("/usr/bin/chromium"),
        "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded files go to a fresh folder per test, never into var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The activity log's checkpoints too (their storage has its own folder).
    settings.STORAGES = {
        **settings.STORAGES,
        "activity_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "activity-checkpoints")},
        },
    }


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Rate limits and cached values must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(name="Acme", slug="acme-test")


@pytest.fixture
def other_org(db) -> Organization:
    return OrganizationFactory(name="Globex", slug="globex-test")


@pytest.fixture
def make_member(db) -> Callable[..., Membership]:
    def make(org: Organization, role: str = Role.COMPLIANCE_MANAGER, **kwargs) -> Membership:
        return MembershipFactory(organization=org, role=role, **kwargs)

    return make


@pytest.fixture
def manager(org, make_member) -> Membership:
    return make_member(org, Role.COMPLIANCE_MANAGER)


@pytest.fixture
def reviewer(org, make_member) -> Membership:
    """A second compliance manager: reviews what ``manager`` uploads (independent review)."""
    return make_member(org, Role.COMPLIANCE_MANAGER)


@pytest.fixture
def owner(org, make_member) -> Membership:
    return make_member(org, Role.OWNER)


@pytest.fixture
def time_boxed_owner(org, make_member) -> Membership:
    """A second owner whose access ends in an hour (``tests.factories.access_end`` ends it)."""
    return make_member(org, Role.OWNER, expires_at=timezone.now() + dt.timedelta(hours=1))


@pytest.fixture
def outsider(other_org, make_member) -> Membership:
    """An owner of another organization: has every right, but not here."""
    return make_member(other_org, Role.OWNER)


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    def make(membership: Membership) -> Client:
        c = Client()
        c.force_login(membership.user)
        return c

    return make


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def dns_server(settings):
    """A local DNS server (dnslib) answering the TXT records a test sets
    (``dns_server.records.txt[name] = [values]``): domain verification asks it."""
    from tests.sso.verification_servers import LocalDns

    with LocalDns() as server:
        settings.SSO_DNS_NAMESERVER = f"127.0.0.1:{server.port}"
        yield server
