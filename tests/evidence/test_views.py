"""Evidence pages: adding files and links, the item page, review, removal, the overview."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence import services
from evidence.models import EvidenceItem, EvidenceVersion
from tenants.models import ActivityEntry, Role
from tests.evidence.conftest import HTML, pdf_bytes
from tests.factories import ControlFactory, evidence_row
from tests.isolation import assert_foreign_object_404

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_WEEK = TODAY - dt.timedelta(days=7)


def _add_url(org, control) -> str:
    return reverse("evidence_add", args=[org.slug, control.pk])


def _post_file(client, org, control, upload, **fields):
    data = {"kind": "file", "effective_start": LAST_WEEK.isoformat(), "file": upload, **fields}
    return client.post(_add_url(org, control), data)


def _versions(org):
    return list(EvidenceVersion.objects.for_org(org).order_by("pk"))


# --- adding ---------------------------------------------------------------------------------


def test_upload_round_trip(org, contributor, control, client_for, upload):
    client = client_for(contributor)
    page = client.get(_add_url(org, control))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content

    response = _post_file(
        client, org, control, upload(pdf_bytes("q1"), "Q1 review.pdf"), title="Q1 access review"
    )
    (version,) = _versions(org)
    assert response.status_code == 302
    assert response["Location"] == reverse("evidence_item", args=[org.slug, version.item_id])
    assert version.item.title == "Q1 access review" and version.original_name == "Q1 review.pdf"

    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert version.sha256.encode() in detail.content
    download = client.get(reverse("evidence_download", args=[org.slug, version.pk]))
    assert b"".join(download.streaming_content) == pdf_bytes("q1")

    # A second upload onto the same item is version 2.
    _post_file(client, org, control, upload(pdf_bytes("q2")), item=str(version.item_id))
    assert [v.number for v in _versions(org)] == [1, 2]


def test_a_link_with_a_period(org, manager, control, client_for):
    response = client_for(manager).post(
        _add_url(org, control),
        {
            "kind": "link",
            "url": "https://jira.example.com/browse/SEC-1",
            "effective_start": "2025-01-01",
            "effective_end": "2025-03-31",
        },
    )
    assert response.status_code == 302
    (version,) = _versions(org)
    assert (version.kind, version.effective_start, version.effective_end) == (
        "link",
        dt.date(2025, 1, 1),
        dt.date(2025, 3, 31),
    )


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\report.pdf", "report.pdf"),
        ("evil\u202efdp.pdf", "evilfdp.pdf"),  # .exe versions: test_names.py
        ("con.pdf", "_con.pdf"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("q1\x07review\u200b.pdf", "q1review.pdf"),
        ("ｒｅｐｏｒｔ／..／x.pdf", "x.pdf"),
    ],
)
def test_hostile_file_names_are_neutralised(
    org, manager, control, client_for, upload, media_files, name, stored
):
    response = _post_file(client_for(manager), org, control, upload(name=name))
    assert response.status_code == 302
    (version,) = _versions(org)
    assert version.original_name == stored
    # The stored file sits under a random key inside the media folder, whatever the name.
    (path,) = media_files()
    assert path.name == version.file.name.rsplit("/", 1)[-1] and len(path.name) == 32


def test_html_renamed_pdf_is_refused_with_a_clear_message(
    org, manager, control, client_for, upload, media_files
):
    response = _post_file(client_for(manager), org, control, upload(HTML, "report.pdf"))
    assert response.status_code == 400
    assert "HTML files are not accepted as evidence: upload a PDF or a screenshot instead." in (
        response.content.decode()
    )
    assert _versions(org) == [] and media_files() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"effective_start": "2025-13-45"}, "Enter a valid date."),
        ({"effective_start": "99999-01-01"}, "Enter a valid date."),
        ({"effective_start": ""}, "Give the date (or first day) the evidence demonstrates."),
        (
            {"effective_start": (TODAY + dt.timedelta(days=2)).isoformat()},
            "Evidence cannot demonstrate a day in the future.",
        ),
        ({"effective_end": "2000-01-01"}, "The period must end on or after its first day."),
        ({"kind": "link", "url": ""}, "Enter the address of the evidence."),
        (
            {"kind": "link", "url": "javascript:alert(1)"},
            "Enter a full http:// or https:// address.",
        ),
        ({"kind": "file", "file": ""}, "Choose the file to upload."),
        ({"kind": "video"}, "Select a valid choice."),
        ({"item": "999999999999999999999"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_beside_the_field(
    org, manager, control, client_for, upload, media_files, fields, message
):
    data = {"kind": "file", "effective_start": LAST_WEEK.isoformat(), "file": upload(), **fields}
    response = client_for(manager).post(_add_url(org, control), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _versions(org) == [] and media_files() == []


def test_another_controls_item_cannot_be_chosen(org, manager, control, client_for, upload):
    other_item = evidence_row(ControlFactory(organization=org), LAST_WEEK).item
    response = _post_file(client_for(manager), org, control, upload(), item=str(other_item.pk))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_auditors_and_non_owners_cannot_add(org, make_member, control, client_for, upload, role):
    client = client_for(make_member(org, role))
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    assert client.get(_add_url(org, control)).status_code == (302 if role == Role.AUDITOR else 403)
    response = _post_file(client, org, control, upload())
    assert response.status_code == 403
    if role == Role.CONTRIBUTOR:  # an auditor is refused before the view runs
        assert "control&#x27;s owner" in response.content.decode()
    assert _versions(org) == []


def test_unknown_control_is_404(org, manager, foreign_control, client_for):
    client = client_for(manager)
    assert client.get(_add_url(org, foreign_control)).status_code == 404
    assert (
        client.get(f"/o/{org.slug}/evidence/controls/99999999999999999999/add/").status_code == 404
    )


# --- the item page, review, removal ---------------------------------------------------------


@pytest.fixture
def version(manager, control):
    return services.evidence_add_link(
        membership=manager, control=control, url="https://x.example.com/1", effective_start=TODAY
    )


def _item_url(org, item) -> str:
    return reverse("evidence_item", args=[org.slug, item.pk])


def test_item_page_shows_every_version(org, manager, reviewer, control, client_for, upload):
    first = services.evidence_submit_file(
        membership=manager,
        control=control,
        upload=upload(pdf_bytes("a"), "a.pdf"),
        effective_start=LAST_WEEK,
    )
    second = services.evidence_add_link(
        membership=manager,
        control=control,
        url="https://x.example.com/2",
        effective_start=TODAY,
        item=first.item,
    )
    services.evidence_review(
        membership=reviewer, version=first, decision="rejected", comment="Blurry"
    )
    html = client_for(manager).get(_item_url(org, first.item)).content.decode()
    for text in (
        first.sha256,
        second.sha256,
        "a.pdf",
        "application/pdf",
        "Blurry",
        "Rejected",
        reviewer.user.email,
        first.valid_until.strftime("%-d %b %Y"),
    ):
        assert text in html
    assert 'id="version-1"' in html and 'id="version-2"' in html


def test_item_page_query_count(org, manager, control, client_for, django_assert_num_queries):
    item = evidence_row(control, LAST_WEEK).item
    for _ in range(3):
        evidence_row(control, LAST_WEEK, item=item)
    client = client_for(manager)
    url = _item_url(org, item)
    client.get(url)
    # session, user, membership (middleware); the item with its control and owner; the
    # count of its versions and a page of them with uploader and reviewer; the organization
    # switcher's memberships
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200
    for _ in range(40):  # more than a page: the same queries, 25 versions shown
        evidence_row(control, LAST_WEEK, item=item)
    with django_assert_num_queries(7):
        body = client.get(url).content.decode()
    assert body.count('id="version-') == 25 and "Page 1 of 2" in body


def test_review_accept_and_reject(org, reviewer, version, client_for):
    client = client_for(reviewer)
    url = reverse("evidence_review", args=[org.slug, version.pk])
    response = client.post(url, {"decision": "rejected", "comment": ""})
    assert response.status_code == 400
    assert "Say why the evidence is rejected, so its owner can fix it." in response.content.decode()
    response = client.post(url, {"decision": "accepted", "comment": "Looks right"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.review_state, version.review_comment) == ("accepted", "Looks right")
    assert client.post(url, {"decision": "??"}).status_code == 400


def test_remove_with_a_reason(org, contributor, version, client_for):
    client = client_for(contributor)
    url = reverse("evidence_item_remove", args=[org.slug, version.item_id])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert client.post(url, {"reason": "Uploaded to the wrong control"}).status_code == 302
    item = EvidenceItem.objects.for_org(org).get(pk=version.item_id)
    assert item.removal_reason == "Uploaded to the wrong control"
    page = client.get(_item_url(org, item)).content.decode()
    assert "Uploaded to the wrong control" in page and "Remove this evidence" not in page


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_auditors_and_non_owners_cannot_review_or_remove(
    org, make_member, version, client_for, role
):
    client = client_for(make_member(org, role))
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    assert client.get(_item_url(org, version.item)).status_code == (
        302 if role == Role.AUDITOR else 200
    )
    review = client.post(
        reverse("evidence_review", args=[org.slug, version.pk]), {"decision": "accepted"}
    )
    remove = client.post(
        reverse("evidence_item_remove", args=[org.slug, version.item_id]), {"reason": "x"}
    )
    assert (review.status_code, remove.status_code) == (403, 403)
    version.refresh_from_db()
    assert version.review_state == "pending" and not version.item.is_removed
    page = client.get(_item_url(org, version.item)).content.decode()
    assert "Accept</button>" not in page and "Remove this evidence" not in page


def test_members_get_404_for_another_organizations_evidence(
    org, manager, outsider, foreign_control, client_for
):
    foreign = services.evidence_add_link(
        membership=outsider,
        control=foreign_control,
        url="https://x.example.com",
        effective_start=TODAY,
    )
    client = client_for(manager)
    assert_foreign_object_404(client, _item_url(org, foreign.item), methods=("get",))
    assert_foreign_object_404(
        client, reverse("evidence_download", args=[org.slug, foreign.pk]), methods=("get",)
    )
    for name, pk in (("evidence_review", foreign.pk), ("evidence_item_remove", foreign.item_id)):
        assert_foreign_object_404(client, reverse(name, args=[org.slug, pk]), methods=("post",))
    assert_foreign_object_404(client, _add_url(org, foreign_control))


def test_outsiders_get_404_on_every_evidence_url(org, outsider, version, client_for):
    client = client_for(outsider)
    urls = [
        (reverse("evidence_overview", args=[org.slug]), "get"),
        (_add_url(org, version.item.control), "get"),
        (_add_url(org, version.item.control), "post"),
        (_item_url(org, version.item), "get"),
        (reverse("evidence_download", args=[org.slug, version.pk]), "get"),
        (reverse("evidence_review", args=[org.slug, version.pk]), "post"),
        (reverse("evidence_item_remove", args=[org.slug, version.item_id]), "post"),
    ]
    for url, method in urls:
        assert getattr(client, method)(url).status_code == 404, url
    assert not ActivityEntry.objects.for_org(org).filter(action="download").exists()
