"""factory_boy factories. Tenant-owned rows are saved with ``save()`` so they need no
current organization (the scoped manager would refuse, by design)."""

from __future__ import annotations

import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from tenants.models import Membership, Organization, Role

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.save()
        return obj


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.COMPLIANCE_MANAGER


class SystemFactory(TenantFactory):
    class Meta:
        model = "controls.System"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"System {n}")


class ControlFactory(TenantFactory):
    """A control; pass ``organization`` (and ``owner``, a membership of it) explicitly."""

    class Meta:
        model = "controls.Control"

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"CTL-{n:03d}")
    title = factory.Sequence(lambda n: f"Control {n}")
    control_type = "procedural"
    frequency = "quarterly"
    status = "implemented"


def access_end(member: Membership) -> None:
    """The member's time-boxed access runs out (a second ago), as time passing does: no
    service, nothing else written."""
    Membership.objects.for_org(member.organization_id).filter(pk=member.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def control_map(control, *refs: str):
    """Map ``control`` to criteria of the default framework by reference (CC6.1 ...)."""
    from django.conf import settings

    from controls.models import ControlCriterion
    from criteria.models import Criterion

    for criterion in Criterion.objects.filter(
        framework__key=settings.CATALOG_FRAMEWORK, ref__in=refs
    ):
        ControlCriterion(
            organization_id=control.organization_id, control=control, criterion=criterion
        ).save()
    return control


class EvidenceItemFactory(TenantFactory):
    class Meta:
        model = "evidence.EvidenceItem"

    organization = factory.LazyAttribute(lambda o: o.control.organization)
    title = factory.Sequence(lambda n: f"Evidence {n}")


def evidence_row(control, start, end=None, *, state="accepted", valid_until=None, item=None):
    """A link evidence version (no file) for ``control`` demonstrating [start, end].

    Rows written directly, for engine and query tests; the services are tested on their own.
    """
    import datetime as dt
    import hashlib

    from django.db.models import Max

    from evidence.models import EvidenceVersion

    end = end or start
    item = item or EvidenceItemFactory(control=control)
    number = (
        EvidenceVersion.objects.for_org(control.organization_id)
        .filter(item=item)
        .aggregate(n=Max("number"))["n"]
        or 0
    ) + 1
    url = f"https://evidence.example.com/{control.code}/{item.pk}/{number}"
    version = EvidenceVersion(
        organization_id=control.organization_id,
        item=item,
        number=number,
        kind="link",
        url=url,
        sha256=hashlib.sha256(url.encode()).hexdigest(),
        effective_start=start,
        effective_end=end,
        valid_until=valid_until or end + dt.timedelta(days=120),
        uploaded_by_label="factory",
        review_state=state,
    )
    version.save()
    return version


def bulk_evidence(org, controls, per_control: int, start, *, every_days: int = 7) -> None:
    """``per_control`` versions for each control, one every ``every_days`` days from
    ``start`` (each fifth awaiting review, the others accepted), in two bulk inserts: data
    for query-count and size tests."""
    import datetime as dt
    import hashlib

    from evidence.models import EvidenceItem, EvidenceVersion

    items = EvidenceItem.objects.bulk_create(
        [EvidenceItem(organization=org, control=c, title=f"Export {c.code}") for c in controls]
    )
    versions = []
    for item in items:
        for n in range(per_control):
            day = start + dt.timedelta(days=every_days * n)
            url = f"https://evidence.example.com/{item.pk}/{n}"
            versions.append(
                EvidenceVersion(
                    organization=org,
                    item=item,
                    number=n + 1,
                    kind="link",
                    url=url,
                    sha256=hashlib.sha256(url.encode()).hexdigest(),
                    effective_start=day,
                    effective_end=day,
                    valid_until=day + dt.timedelta(days=120),
                    uploaded_by_label="bulk",
                    review_state="accepted" if n % 5 else "pending",
                )
            )
    EvidenceVersion.objects.bulk_create(versions)


def failed_sample_rows(
    audit, controls, day, *, per_control: int = 2, tester: str = "auditor", version: int = 1
):
    """For each control, a population and a sample of ``per_control`` items, each marked
    *exception* on ``day``: rows written in bulk, for engine and query tests (the sampling
    services are tested on their own)."""
    from reports.models import Population, PopulationItem, Sample, SampleItem

    org = audit.organization_id
    pops = Population.objects.bulk_create(
        Population(
            organization_id=org,
            audit=audit,
            control=c,
            version=version,
            source="api",
            sha256="0" * 64,
            row_count=per_control,
            supplied_by_label="factory",
        )
        for c in controls
    )
    items = PopulationItem.objects.bulk_create(
        PopulationItem(
            organization_id=org, population=p, item_id=f"{p.control.code}-{version}-{n}", date=day
        )
        for p in pops
        for n in range(per_control)
    )
    drawn = Sample.objects.bulk_create(
        Sample(
            organization_id=org,
            population=p,
            audit=audit,
            control=p.control,
            number=1,
            size=per_control,
            suggested_size=per_control,
            method="manual",
            drawn_by_label=tester,
        )
        for p in pops
    )
    sample_of = {s.population_id: s for s in drawn}
    SampleItem.objects.bulk_create(
        SampleItem(
            organization_id=org,
            sample=sample_of[i.population_id],
            population_item=i,
            rank=n + 1,
            result="exception",
            note=f"No approval on file for {i.item_id}.",
            tested_by_label=tester,
        )
        for n, i in enumerate(items)
    )
