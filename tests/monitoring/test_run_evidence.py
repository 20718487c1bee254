"""Each run becomes system-generated evidence of the controls its checks map to: one version per
run and control, accepted automatically when the raw output is stored, reviewable afterwards;
failing tests are named in readiness reasons and next actions."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.readiness import audit_readiness
from controls.readiness_actions import next_actions
from evidence import services as evidence_services
from evidence.models import EvidenceItem, EvidenceKind, EvidenceVersion
from monitoring.collectors import RawOutput
from monitoring.models import CheckRun
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory, control_map
from tests.monitoring.conftest import push
from tests.monitoring.test_api import BODY, results_url

pytestmark = pytest.mark.django_db

RAW = RawOutput(content=b'{"pushed": true}', name="push.json")


def system_versions(org):
    return EvidenceVersion.objects.for_org(org).filter(kind=EvidenceKind.SYSTEM)


def test_a_push_records_one_accepted_version_per_mapped_control(
    org, connection, control, contributor, key_client
):
    other = control_map(
        ControlFactory(organization=org, owner=contributor, code="AC-02", title="Keys"), "CC6.1"
    )
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    assert client.post(results_url(org, connection), BODY, format="json").status_code == 201
    run = CheckRun.objects.for_org(org).get()
    versions = list(system_versions(org).select_related("item").order_by("item__control__code"))
    assert [v.item.control_id for v in versions] == [control.pk, other.pk]
    today = timezone.localdate()
    for v in versions:
        assert v.item.title == "Automated tests: CI security tests"
        assert (v.review_state, v.reviewed_by_id) == ("accepted", None)
        assert v.reviewed_by_label == "Integration: CI security tests"
        assert (v.effective_start, v.effective_end) == (today, today)
        assert (v.sha256, v.size) == (run.output_sha256, run.output_size)
        assert v.file.name == run.output.name  # stored once, shared
        assert v.data["run"]["id"] == run.pk
        assert (v.data["passed"], v.data["failed"], v.data["errors"]) == (1, 1, 0)
        check = v.data["checks"][0]
        assert (check["key"], check["failed_resources"]) == ("s3-encryption", ["bucket-a"])
        assert v.failure == (
            f"Test 'S3 buckets are encrypted' failing on 1 resource since "
            f"{today.day} {today:%b %Y} (bucket-a)"
        )
    # A second run the same day: a second version on the same items, never a replacement.
    assert client.post(results_url(org, connection), BODY, format="json").status_code == 201
    assert system_versions(org).count() == 4
    assert (
        EvidenceItem.objects.for_org(org).filter(system_key__startswith="monitoring:").count() == 2
    )
    latest = system_versions(org).filter(item__control=control, is_latest=True).get()
    assert latest.number == 2


def test_a_manager_rejects_it_and_readiness_reacts(
    org, connection, control, manager, make_audit, client_for
):
    push(manager, connection, ("bucket-a", "fail"), ("bucket-b", "pass"), output=RAW)
    audit = make_audit(org, as_of=timezone.localdate())
    readiness = audit_readiness(audit)
    mine = readiness.controls[control.pk]
    assert mine.evidence_ok and mine.reviewers == ["Integration: CI security tests"]
    reasons = next(r for r in readiness.criteria if r.criterion.ref == "CC6.1").reasons
    assert any(
        r.startswith("AC-01: Test 'S3 buckets are encrypted' failing on 1 resource since")
        for r in reasons
    ), reasons
    actions = next_actions(readiness, slug=org.slug, today=timezone.localdate())
    fix = next(a for a in actions if a.kind == "test.fix")
    assert fix.title == "Fix the failing tests of AC-01" and fix.url.endswith("#tests")

    version = system_versions(org).get()
    client = client_for(manager)
    page = reverse("evidence_item", args=[org.slug, version.item_id])
    body = client.get(page).content.decode()
    assert f'#run-{version.data["run"]["id"]}">Run #' in body and "by Integration: CI" in body
    assert "1 passed, 1 failed" in body
    response = client.post(
        reverse("evidence_review", args=[org.slug, version.pk]),
        {"decision": "rejected", "comment": "Test account, not production"},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.review_state, version.reviewed_by_id) == ("rejected", manager.user_id)
    assert version.reviewed_by_label == ""
    after = audit_readiness(audit).controls[control.pk]
    assert not after.evidence_ok and after.failing_tests == []
    assert after.note.startswith("no accepted evidence valid on")


def test_the_writes_take_the_same_queries_for_1_and_12_controls(org, manager, connection):
    def queries(key: str, ref: str) -> int:
        with CaptureQueriesContext(db_connection) as ctx:
            push(manager, connection, ("bucket-a", "fail"), key=key, criteria=(ref,), output=RAW)
        return len(ctx.captured_queries)

    for ref in ("CC6.4", "CC6.2"):
        control_map(ControlFactory(organization=org, owner=manager), ref)
    for _ in range(12):
        control_map(ControlFactory(organization=org, owner=manager), "CC6.3")
    queries("warm-up", "CC6.4")
    # A new check each: both pushes create their check, finding and evidence items.
    one, twelve = queries("one", "CC6.2"), queries("twelve", "CC6.3")
    assert system_versions(org).count() == 1 + 1 + 12
    assert one == twelve


def test_other_organizations_see_none_of_it(
    org, manager, connection, control, outsider, api_for, client_for
):
    push(manager, connection, ("bucket-a", "fail"), output=RAW)
    version = system_versions(org).get()
    client = api_for(outsider)
    assert client.get(org_url(org, f"evidence/versions/{version.pk}/")).status_code == 404
    browser = reverse("evidence_item", args=[org.slug, version.item_id])
    assert client_for(outsider).get(browser).status_code == 404
    # The manager's API shows who accepted it and what failed.
    mine = api_for(manager).get(org_url(org, f"evidence/versions/{version.pk}/")).json()
    assert mine["reviewed_by"] == "Integration: CI security tests"
    assert mine["failure"].startswith("Test 'S3 buckets are encrypted' failing on 1 resource")


def test_the_summary_downloads_as_json(org, manager, connection, control, client_for):
    push(manager, connection, ("bucket-a", "fail"))
    version = system_versions(org).get()
    response = client_for(manager).get(reverse("evidence_download", args=[org.slug, version.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith(f"-v{version.number}.json")
    assert evidence_services.canonical_json(version.data) == response.content


def test_without_stored_output_it_waits_for_review(org, manager, connection, control):
    push(manager, connection, ("bucket-a", "pass"))  # no raw output stored with this run
    version = system_versions(org).get()
    assert (version.review_state, version.reviewed_by_label, version.failure) == ("pending", "", "")


def test_the_evidence_package_holds_the_run_s_raw_output(
    org, manager, connection, control, make_audit, tmp_path
):
    import json
    import zipfile

    from reports.content import report_content
    from reports.rendering import exports

    push(manager, connection, ("bucket-a", "pass"), output=RAW)
    audit = make_audit(org, as_of=timezone.localdate())
    content = report_content(audit)
    [row] = [r for r in content.evidence if r.kind == EvidenceKind.SYSTEM]
    assert row.reviewed_by == "Integration: CI security tests"
    exports.package(content, tmp_path / "p.zip")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        [entry] = [e for e in manifest["files"] if e["kind"] == "system"]
        assert archive.read(entry["path"]) == RAW.content
    assert entry["sha256_matches"] is True and entry["reviewed_by"] == row.reviewed_by
