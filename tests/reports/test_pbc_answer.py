"""Answering a request for information: the evidence search (title or file name, control,
state, period, earlier versions), 25 per page, the chosen versions kept across searches and
pages, new evidence added and sent in the same step, who may use it, and the query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceItem, EvidenceVersion, ScanState
from reports import pbc
from reports.models import InfoRequest, InfoRequestEvidence, RequestStatus
from tenants.models import ActivityEntry, Role
from tests.evidence.conftest import pdf_bytes
from tests.factories import ControlFactory, EvidenceItemFactory, control_map, evidence_row
from tests.reports.portal_world import build_world
from tests.scanner import hold_uploads

pytestmark = pytest.mark.django_db

DUE = timezone.localdate() + dt.timedelta(days=14)
DAY = dt.date(2025, 6, 1)


@pytest.fixture
def w(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


def _raise(w, **kwargs) -> InfoRequest:
    data = {"title": "Firewall rules", "due_date": DUE, "control": w.control, **kwargs}
    return pbc.request_raise(membership=w.auditor, audit=w.audit, **data)


def _detail(w, info) -> str:
    return reverse(
        "request_detail", kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk, "pk": info.pk}
    )


def _picker(w, info) -> str:
    return reverse(
        "request_answer_evidence",
        kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk, "pk": info.pk},
    )


def _offered(body: str) -> list[str]:
    """The version ids offered as not chosen (unticked checkboxes), in page order."""
    return re.findall(r'<input type="checkbox" name="versions" value="(\d+)">', body)


def _chosen(body: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="versions" value="(\d+)" checked>', body)


def _firewall(w, manager, count: int):
    control = control_map(
        ControlFactory(organization=w.org, owner=manager, code="NW-01", title="Firewall"), "CC6.1"
    )
    rows = [
        evidence_row(control, DAY, item=EvidenceItemFactory(control=control, title=f"Rules {i:02}"))
        for i in range(count)
    ]
    return control, rows


def test_search_filters_and_pages(w, client_for, manager):
    control, rows = _firewall(w, manager, 30)
    info = _raise(w)
    client = client_for(w.manager)
    url = _detail(w, info)

    everything = client.get(url).content.decode()
    # The world's 2 items, its automated test's run (system-generated) and the 30 rules.
    assert "33 matching items" in everything and "Page 1 of 2" in everything
    # The request's control (AC-01) comes first; 25 on a page.
    offered = _offered(everything)
    assert len(offered) == 25 and {str(w.version.pk), str(w.link.pk)} <= set(offered[:3])
    assert str(w.hidden_version.pk) not in offered  # out of the audit's scope

    rules = client.get(url, {"q": "rules", "page": "2"}).content.decode()
    assert "30 matching items" in rules and "Page 2 of 2" in rules
    assert _offered(rules) == [str(r.pk) for r in rows[25:]]
    # The file name is searched too, case-insensitively.
    assert _offered(client.get(url, {"q": "ACCESS-review"}).content.decode()) == [str(w.version.pk)]
    assert _offered(client.get(url, {"control": control.pk}).content.decode())[:3] == [
        str(r.pk) for r in rows[:3]
    ]
    EvidenceVersion.objects.for_org(w.org).filter(pk=rows[7].pk).update(review_state="rejected")
    rejected = client.get(url, {"state": "rejected"}).content.decode()
    assert _offered(rejected) == [str(rows[7].pk)] and "Review rejected" in rejected
    # The period: versions whose dates overlap it (the link demonstrates 1 May only).
    may = client.get(url, {"start": "2025-05-01", "end": "2025-05-31"}).content.decode()
    assert _offered(may) == [str(w.link.pk)]
    # Earlier versions only on request: a Type 2 period's evidence is rarely the latest.
    newer = evidence_row(w.control, dt.date(2025, 9, 1), item=w.link.item)
    latest = _offered(client.get(url, {"control": w.control.pk}).content.decode())
    assert str(newer.pk) in latest and str(w.link.pk) not in latest
    older = client.get(url, {"control": w.control.pk, "older": "1"}).content.decode()
    run_version = EvidenceVersion.objects.for_org(w.org).get(kind="system")
    assert {str(newer.pk), str(w.link.pk), str(w.version.pk), str(run_version.pk)} == set(
        _offered(older)
    )
    # Filters that do not parse are no filter, never an error.
    for bad in (
        {"start": "yesterday"},
        {"control": "x"},
        {"control": w.unmapped.pk},
        {"state": "<b>"},
        {"page": "99"},
        {"page": "-1"},
        {"versions": ["x", "1" * 40]},
        {"q": "%_'\"<script>" * 20},
    ):
        response = client.get(url, bad)
        assert response.status_code == 200, bad
        assert "<script>" not in response.content.decode().split("<main")[1], bad


def test_chosen_versions_stay_chosen_across_searches_and_pages(w, client_for, manager):
    _control, rows = _firewall(w, manager, 30)
    info = _raise(w)
    client = client_for(w.manager)
    url = _detail(w, info)
    chosen = [w.version.pk, rows[29].pk, w.hidden_version.pk]  # the last is out of scope
    body = client.get(url, {"q": "nothing like it", "versions": chosen}).content.decode()
    assert _chosen(body) == [str(w.version.pk), str(rows[29].pk)]
    assert "No evidence matches" in body and "Chosen to send (2)" in body
    # Without JavaScript, "Search" and the page buttons post the form back: the note typed
    # so far, the ticks and the filters come back with the page.
    posted = client.post(
        url,
        {"versions": chosen[:2], "note": "Rules as of June.", "q": "rules", "page": "2"},
    )
    page = posted.content.decode()
    assert posted.status_code == 200 and "Rules as of June." in page
    assert _chosen(page) == [str(w.version.pk), str(rows[29].pk)]
    assert _offered(page) == [str(r.pk) for r in rows[25:29]]  # the chosen one not twice
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()  # searching sends nothing
    # The htmx endpoint answers the same question with the lists alone.
    partial = client.get(_picker(w, info), {"q": "rules", "versions": chosen[:2], "page": "2"})
    lists = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in lists
    assert "Find evidence" not in lists and 'id="picker-lists"' not in lists  # the inside only
    assert _chosen(lists) == _chosen(page) and _offered(lists) == _offered(page)
    # Sending: what was chosen on other pages goes too.
    sent = client.post(url, {"action": "answer", "versions": chosen[:2], "note": "Here."})
    assert sent.status_code == 302
    attached = set(InfoRequestEvidence.objects.for_org(w.org).values_list("version_id", flat=True))
    assert attached == set(chosen[:2])


def _new(w, **fields):
    data = {
        "action": "answer",
        "note": "The signed rules review.",
        "new-control": w.control.pk,
        "new-effective_start": "2025-06-01",
        "new-effective_end": "2025-06-30",
    }
    data.update(fields)
    return data


def test_new_evidence_is_stored_and_sent_in_the_same_step(w, client_for):
    info = _raise(w)
    client = client_for(w.manager)
    upload = SimpleUploadedFile("rules-review.pdf", pdf_bytes("rules"), "application/pdf")
    response = client.post(_detail(w, info), _new(w, versions=[w.link.pk], **{"new-file": upload}))
    assert response.status_code == 302
    new = EvidenceVersion.objects.for_org(w.org).get(original_name="rules-review.pdf")
    assert new.item.control_id == w.control.pk and new.item.title == "rules-review.pdf"
    info.refresh_from_db()
    assert info.status == RequestStatus.ANSWERED and info.answer_note == "The signed rules review."
    attached = set(InfoRequestEvidence.objects.for_org(w.org).values_list("version_id", flat=True))
    assert attached == {w.link.pk, new.pk}
    actions = set(ActivityEntry.objects.for_org(w.org).values_list("action", flat=True))
    assert {"upload", "request.answer"} <= actions
    # A link works the same way, alone.
    link = client.post(
        _detail(w, info),
        _new(w, **{"new-url": "https://tickets.example.com/NET-4", "new-title": "Change ticket"}),
    )
    assert link.status_code == 302
    ticket = EvidenceVersion.objects.for_org(w.org).get(item__title="Change ticket")
    assert InfoRequestEvidence.objects.for_org(w.org).filter(version=ticket).exists()
    page = client_for(w.auditor).get(
        reverse(
            "portal_request",
            kwargs={"org_slug": w.org.slug, "audit_pk": w.audit.pk, "pk": info.pk},
        )
    )
    assert new.sha256 in page.content.decode() and ticket.sha256 in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"new-file": ("tool.exe", b"MZ\x90\x00binary")}, "file"),
        (
            {
                "new-file": ("rules.pdf", pdf_bytes("future")),
                "new-effective_start": "2999-01-01",
                "new-effective_end": "",
            },
            "future",
        ),
        ({"new-url": "ftp://example.com/x"}, "https://"),
        (
            {"new-url": "https://example.com/x", "new-file": ("a.pdf", pdf_bytes("both"))},
            "not both",
        ),
        ({"new-url": "https://example.com/x", "new-effective_start": ""}, "Give the date"),
        ({"new-url": "https://example.com/x", "new-control": "999999"}, "Select a valid choice"),
        ({"new-url": "https://example.com/x", "versions": ["abc"]}, "Choose evidence versions"),
    ],
)
def test_bad_new_evidence_loses_nothing(w, client_for, fields, message):
    info = _raise(w)
    fields = {
        k: SimpleUploadedFile(v[0], v[1]) if isinstance(v, tuple) else v for k, v in fields.items()
    }
    before = EvidenceVersion.objects.for_org(w.org).count()
    data = _new(w, **{"versions": [w.version.pk], **fields})
    response = client_for(w.manager).post(_detail(w, info), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    # The typed note, the chosen versions and the new evidence's fields are all still there.
    assert "The signed rules review." in body
    if "versions" not in fields:
        assert _chosen(body) == [str(w.version.pk)]
    assert re.search(r'<details class="new-evidence" open>', body)
    if "new-file" in fields:
        assert "Choose the file again" in body  # a browser cannot keep it for us
    assert EvidenceVersion.objects.for_org(w.org).count() == before
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()
    info.refresh_from_db()
    assert info.status == RequestStatus.OPEN


def test_a_file_over_the_limit_is_refused_and_the_note_kept(w, client_for, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 4096
    info = _raise(w)
    big = SimpleUploadedFile("big.pdf", pdf_bytes("x" * 9000), "application/pdf")
    response = client_for(w.manager).post(_detail(w, info), _new(w, **{"new-file": big}))
    body = response.content.decode()
    assert response.status_code == 413
    assert "larger than the 4 KB limit" in body and "The signed rules review." in body
    assert not EvidenceVersion.objects.for_org(w.org).filter(original_name="big.pdf").exists()
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()


def test_a_refused_answer_stores_no_file(w, client_for, settings):
    from pathlib import Path

    stored = Path(settings.MEDIA_ROOT) / "evidence" / str(w.org.pk)
    before = sorted(stored.iterdir())
    info = _raise(w)
    upload = SimpleUploadedFile("rules.pdf", pdf_bytes("refused"), "application/pdf")
    data = _new(w, versions=[w.hidden_version.pk], **{"new-file": upload})  # out of scope
    response = client_for(w.manager).post(_detail(w, info), data)
    assert response.status_code == 400
    assert "Choose evidence of controls in this audit" in response.content.decode()
    assert not EvidenceVersion.objects.for_org(w.org).filter(original_name="rules.pdf").exists()
    assert sorted(stored.iterdir()) == before and len(before) == 2


def test_a_file_held_for_its_scan_is_stored_but_not_sent(w, client_for, settings):
    hold_uploads(settings)
    info = _raise(w)
    client = client_for(w.manager)
    upload = SimpleUploadedFile("held.pdf", pdf_bytes("held"), "application/pdf")
    response = client.post(_detail(w, info), _new(w, **{"new-file": upload}))
    body = response.content.decode()
    assert response.status_code == 400
    assert "waiting for its malware scan, so nothing was sent" in body
    assert "The signed rules review." in body
    held = EvidenceVersion.objects.for_org(w.org).get(original_name="held.pdf")
    assert held.scan_state == ScanState.PENDING
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()
    # Never offered, nor accepted when its id is posted.
    assert str(held.pk) not in _offered(
        client.get(_detail(w, info), {"older": "1"}).content.decode()
    )
    assert (
        client.post(_detail(w, info), {"action": "answer", "versions": [held.pk]}).status_code
        == 400
    )
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()


def test_who_may_search_and_add(w, client_for, make_member, outsider):
    info = _raise(w)
    upload = {"new-url": "https://example.com/sneaky", "new-title": "Sneaky"}
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    portal = reverse("portal_home", kwargs={"org_slug": w.org.slug})
    for member, picker, answer in (
        (w.auditor, portal, 403),  # auditors stay in the portal and write nothing
        (contributor, 403, 403),  # reads the request, does not answer it
        (outsider, 404, 404),  # another organization's owner
    ):
        client = client_for(member)
        got = client.get(_picker(w, info), {"q": "access"})
        assert (got["Location"] if got.status_code == 302 else got.status_code) == picker
        assert w.version.sha256 not in got.content.decode()
        assert client.post(_detail(w, info), _new(w, **upload)).status_code == answer
    assert not EvidenceItem.objects.for_org(w.org).filter(title="Sneaky").exists()
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()


def test_another_organizations_ids_are_refused(w, client_for, other_org, make_member, make_audit):
    """Ids of another organization in the URL, the chosen versions or the new evidence's control
    are not found, never shown and never used."""
    from tests.reports.portal_world import build_world as world

    other_manager = make_member(other_org, Role.COMPLIANCE_MANAGER)
    theirs = world(other_org, other_manager, make_member, make_audit)
    their_versions = EvidenceVersion.objects.for_org(other_org).count()
    their_info = _raise(theirs)
    info = _raise(w)
    client = client_for(w.manager)
    for url in (_detail(theirs, their_info), _picker(theirs, their_info)):
        assert client.get(url).status_code == 404
    body = client.get(_detail(w, info), {"versions": [theirs.version.pk]}).content.decode()
    assert _chosen(body) == [] and theirs.version.item.title not in body
    refused = client.post(
        _detail(w, info),
        _new(w, **{"new-url": "https://example.com/x", "new-control": theirs.control.pk}),
    )
    assert refused.status_code == 400
    sneaky = client.post(_detail(w, info), {"action": "answer", "versions": [theirs.version.pk]})
    assert sneaky.status_code == 400
    assert not InfoRequestEvidence.objects.for_org(w.org).exists()
    assert EvidenceVersion.objects.for_org(other_org).count() == their_versions  # untouched


@pytest.mark.parametrize("rows", [3, 40])
def test_queries_do_not_grow_with_the_evidence(
    w, client_for, manager, rows, django_assert_num_queries
):
    _control, made = _firewall(w, manager, rows)
    info = _raise(w)
    client = client_for(w.manager)
    chosen = {"versions": [made[0].pk, made[-1].pk], "q": "rules", "older": "1"}
    for url, queries in (
        # session, user, membership, switcher, audit, request, attachments, comments, scope
        # controls, the page of evidence, its count, the chosen versions
        (_detail(w, info), 12),
        # session, user, membership, audit, request, scope controls, the page of evidence,
        # its count, the chosen versions (no page around it: no switcher)
        (_picker(w, info), 9),
    ):
        client.get(url, chosen)
        with django_assert_num_queries(queries):
            body = client.get(url, chosen).content.decode()
        assert len(_chosen(body)) == 2 and len(_offered(body)) == min(rows - 2, 25)
