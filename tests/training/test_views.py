"""The training pages: adopting the built-in module, defining an external course, assigning,
the requirement page and its CSV export, the import of completions (preview with per-row
errors, all or nothing), a member's own completion in the app; who may see what; another
organization's requirement not found on every route."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tenants.activity import Actor
from tenants.models import Role
from tests.isolation import assert_foreign_object_404
from tests.training.conftest import person
from training import services
from training.models import TrainingAssignment, TrainingCompletion, TrainingRequirement

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_a_manager_adopts_defines_and_assigns(org, manager, client_for):
    client = client_for(manager)
    person(org, "Ana", department="Sales")
    listed = client.get(url("training", org))
    assert listed.status_code == 200 and b"Adopt" in listed.content
    adopted = client.post(url("training_adopt", org, key="security-awareness"))
    req = TrainingRequirement.objects.for_org(org).get()
    assert adopted.url == url("training_detail", org, pk=req.pk) and req.kind == "module"
    assert client.post(url("training_adopt", org, key="security-awareness")).status_code == 302
    assert TrainingRequirement.objects.for_org(org).count() == 1
    bad = client.post(url("training_new", org), {"title": "", "due_days": "x", "every_months": 99})
    assert bad.status_code == 400
    made = client.post(
        url("training_new", org), {"title": "GDPR basics", "due_days": 10, "every_months": 24}
    )
    assert made.status_code == 302
    course = TrainingRequirement.objects.for_org(org).get(title="GDPR basics")
    assert course.kind == "external" and course.every_months == 24
    client.post(
        url("training_assign", org, pk=course.pk), {"target": "department", "department": "Sales"}
    )
    assert TrainingAssignment.objects.for_org(org).filter(requirement=course).count() == 1
    page = client.get(url("training_detail", org, pk=course.pk))
    assert b"0 of 1" in page.content and b'data-label="Next due"' in page.content
    csv = client.get(url("training_detail", org, pk=course.pk) + "?format=csv")
    assert csv["Content-Type"].startswith("text/csv") and b"ana@example.com" in csv.content
    assignment = TrainingAssignment.objects.for_org(org).get()
    client.post(url("training_unassign", org, pk=course.pk, assignment_pk=assignment.pk))
    assert not TrainingAssignment.objects.for_org(org).exists()


def test_import_previews_errors_and_imports_all_or_nothing(org, manager, module, client_for):
    client = client_for(manager)
    ana, bo = person(org, "Ana"), person(org, "Bo")
    services.assignment_add(membership=manager, requirement=module, target="everyone")
    bad = (
        "email,requirement,completed_on,provider\n"
        "ana@example.com,Security awareness,2026-01-10,KnowBe4\n"
        "nobody@example.com,Security awareness,2026-01-10,\n"
        "bo@example.com,Nope,10/01/2026,\n"
        "bo@example.com,security-awareness,2999-01-01,\n"
    )
    page = client.post(
        url("training_import", org), {"file": SimpleUploadedFile("c.csv", bad.encode())}
    )
    text = page.content.decode()
    assert page.status_code == 200 and "3 with errors" in text
    assert "No person with this e-mail" in text and "No training requirement" in text
    assert "YYYY-MM-DD" in text and "future" in text and 'name="confirm"' not in text
    forced = client.post(url("training_import", org), {"confirm": "yes", "csv_text": bad})
    assert forced.status_code == 400 and "nothing was imported" in forced.content.decode()
    assert not TrainingCompletion.objects.for_org(org).exists()
    good = (
        "email,requirement,completed_on,provider\n"
        "ana@example.com,Security awareness,2026-01-10,KnowBe4\n"
        "BO@example.com,security-awareness,2026-01-11,\n"
    )
    page = client.post(
        url("training_import", org), {"file": SimpleUploadedFile("c.csv", good.encode())}
    )
    csv_text = re.search(
        r'<textarea name="csv_text" hidden>(.*?)</textarea>', page.content.decode(), re.S
    )
    assert csv_text and "2 to import" in page.content.decode()
    done = client.post(url("training_import", org), {"confirm": "yes", "csv_text": good})
    assert done.status_code == 302
    rows = TrainingCompletion.objects.for_org(org).order_by("person__full_name")
    assert [(r.person_id, r.source, r.provider) for r in rows] == [
        (ana.pk, "import", "KnowBe4"),
        (bo.pk, "import", ""),
    ]
    again = client.post(url("training_import", org), {"confirm": "yes", "csv_text": good})
    assert again.status_code == 302 and TrainingCompletion.objects.for_org(org).count() == 2
    missing = client.post(
        url("training_import", org), {"file": SimpleUploadedFile("c.csv", b"a,b\n1,2\n")}
    )
    assert missing.status_code == 400 and b"missing" in missing.content
    binary = client.post(
        url("training_import", org), {"file": SimpleUploadedFile("c.csv", b"\xff\xfe\x00")}
    )
    assert binary.status_code == 400


def test_a_member_completes_their_own_training_in_the_app(
    org, manager, contributor, module, course, client_for
):
    me = person(org, "Ana", membership=contributor)
    services.assignment_add(membership=manager, requirement=module, target="person", person=me)
    client = client_for(contributor)
    # Contributors see none of the managers' pages.
    for name in ("training", "training_new", "training_import"):
        assert client.get(url(name, org)).status_code == 403
    assert client.get(url("training_detail", org, pk=module.pk)).status_code == 403
    # A course not assigned to them is not theirs to complete.
    assert client.get(url("training_complete", org, pk=course.pk)).status_code == 404
    path = url("training_complete", org, pk=module.pk)
    page = client.get(path)
    assert page.status_code == 200 and b"Phishing" in page.content
    shown = re.search(rb'name="shown" value="([0-9a-f]{64})"', page.content).group(1).decode()
    assert client.post(path, {"agree": "yes", "shown": "0" * 64}).status_code == 400
    assert client.post(path, {"agree": "yes", "shown": shown}).status_code == 302
    record = TrainingCompletion.objects.for_org(org).get()
    assert record.source == "app" and record.person_id == me.pk
    again = client.post(path, {"agree": "yes", "shown": shown})
    assert again.status_code == 400 and b"recorded already" in again.content
    # An auditor sees nothing of it.
    auditor = client_for(make_auditor(org))
    assert auditor.get(url("training", org)).status_code in (302, 403, 404)  # to the portal


def make_auditor(org):
    from tests.factories import MembershipFactory

    return MembershipFactory(organization=org, role=Role.AUDITOR)


def test_another_organization_s_requirement_is_not_found(
    org, manager, module, outsider, client_for
):
    ana = person(org, "Ana")
    services.assignment_add(membership=manager, requirement=module, target="everyone")
    completion = services.completion_record(
        organization=org,
        person=ana,
        requirement=module,
        completed_on=timezone.localdate() - dt.timedelta(days=1),
        source="import",
        actor=Actor.system("test"),
    )
    assignment = TrainingAssignment.objects.for_org(org).get()
    client = client_for(outsider)
    other = outsider.organization
    for name in ("training_detail", "training_complete"):
        assert_foreign_object_404(client, url(name, other, pk=module.pk), methods=("get",))
    assert_foreign_object_404(
        client, url("training_certificate", other, pk=completion.pk), methods=("get",)
    )
    for name in ("training_assign",):
        assert_foreign_object_404(client, url(name, other, pk=module.pk), methods=("post",))
    assert_foreign_object_404(
        client,
        url("training_unassign", other, pk=module.pk, assignment_pk=assignment.pk),
        methods=("post",),
    )
    # Their slug with our requirement: a sign-in is not enough either.
    assert client.get(url("training_detail", org, pk=module.pk)).status_code in (403, 404)
    assert completion.pk and TrainingAssignment.objects.for_org(org).count() == 1


def test_one_person_is_assigned_by_e_mail_and_an_unknown_one_is_refused(
    org, manager, module, client_for
):
    from tests.training.conftest import person
    from training.models import TrainingAssignment

    ana = person(org, "Ana")
    client = client_for(manager)
    refused = client.post(
        url("training_assign", org, pk=module.pk),
        {"target": "person", "person_email": "nobody@example.com"},
        follow=True,
    )
    assert "Nobody in your people list" in refused.content.decode()
    assert not TrainingAssignment.objects.for_org(org).filter(target="person").exists()
    client.post(
        url("training_assign", org, pk=module.pk),
        {"target": "person", "person_email": "Ana@example.com"},
    )
    made = TrainingAssignment.objects.for_org(org).get(target="person")
    assert made.person_id == ana.pk
