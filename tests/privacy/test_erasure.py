"""Erasure (issue 13): a shopper who has done everything deletes their account; afterwards no
text, varchar or JSON column of any table holds their name, email, username, phone or address.

Runs against real PostgreSQL (the scan reads information_schema) and the real Friendbook
identity provider (the shopper is social-only, so they confirm through Friendbook)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse

from privacy.models import AuditEntry, ConsentProof, DataExport, ErasureRequest, PrivacySettings
from shop.models import Order
from social.engagement.models import Like, ShareLink
from social.forums.models import Post
from social.models import ConsentRecord
from social.reviews.models import Review, ReviewPhoto
from tests.social.friendbook import Member, local_path

from .conftest import QUENTIN
from .shopper import scan_database, shopper_who_did_everything

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def confirm_with_friendbook(client, fb) -> None:
    """The deletion page sends a social-only shopper to Friendbook and back."""
    page = client.get(reverse("privacy:delete"))
    assert page.status_code == 200
    assert b"Confirm with Friendbook" in page.content
    assert b'name="confirm"' not in page.content  # no deletion form before confirming
    response = client.post(reverse("privacy:reauth", args=["friendbook"]))
    assert response.status_code == 302
    back = Member(fb, QUENTIN["email"]).authorize(response["Location"])
    response = client.get(local_path(back))
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:delete")


@pytest.mark.parametrize("keep_content", [False, True], ids=["remove-content", "keep-content"])
def test_erased_shopper_leaves_no_trace_in_any_text_column(client, fb, settings, keep_content):
    settings.AGORA_REVIEWS_AUTO_APPROVE = "all"
    everything = shopper_who_did_everything(client, fb, name_in_content=not keep_content)
    user = everything.user
    # Given: the scan finds the shopper all over the database (so it can fail).
    before = {table for table, _, _ in scan_database(everything.needles)}
    assert {
        "auth_user",
        "account_emailaddress",
        "socialaccount_socialaccount",
        "shop_order",
        "engagement_publicprofile",
        "social_socialprofile",
        "django_admin_log",
        "personalization_event",
    } <= before, before
    if not keep_content:
        # (not reviews_reviewphoto: a stored photo gets a random name, never the upload's)
        assert {"reviews_review", "forums_post", "forums_topic"} <= before
    export = DataExport.objects.get(user=user)
    assert export.status == DataExport.Status.READY
    from privacy.exporting import export_path

    archive = export_path(export)
    assert archive.exists()
    my_post_ids = list(Post.objects.filter(author=user).values_list("pk", flat=True))
    assert len(my_post_ids) == 3

    # When: the shopper confirms through Friendbook and deletes the account.
    confirm_with_friendbook(client, fb)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("privacy:delete"),
            {"content": "keep" if keep_content else "remove", "confirm": "on"},
        )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("privacy:deleted")

    # Then: nothing identifies them any more.
    hits = scan_database(everything.needles)
    assert hits == [], hits
    erasure = ErasureRequest.objects.get(user=user)
    assert erasure.status == ErasureRequest.Status.DONE
    assert erasure.keep_content is keep_content
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.is_active and not user.has_usable_password()
    assert user.first_name == "Former member" and user.email == ""
    # signed out everywhere
    assert client.get(reverse("privacy:overview")).status_code == 302
    # consents kept as anonymous proof only
    assert not ConsentRecord.objects.filter(user=user).exists()
    proofs = ConsentProof.objects.filter(erasure=erasure)
    assert proofs.filter(category="basic", action="granted").exists()
    assert proofs.filter(category="relationship", action="revoked").exists()
    # orders kept for accounting, without identity
    order = Order.objects.get(pk=everything.order.pk)
    assert order.user_id is None and order.full_name == "Former member"
    assert order.email == "" and order.phone == "" and order.line1 == ""
    # share codes gone, likes gone, the archive file gone
    assert not ShareLink.objects.filter(sharer=user).exists()
    assert not Like.objects.filter(user=user).exists()
    assert not archive.exists()
    # reviews and posts: removed or kept as "Former member", as chosen
    if keep_content:
        assert Review.objects.filter(author=user).count() == 1
        assert ReviewPhoto.objects.filter(review__author=user).count() == 1
        assert Post.objects.filter(pk__in=my_post_ids, is_deleted=False).count() == 3
    else:
        assert not Review.objects.filter(author=user).exists()
        kept = Post.objects.filter(pk__in=my_post_ids)
        assert all(p.is_deleted and p.body == "" for p in kept)
    # audited
    actions = set(AuditEntry.objects.filter(subject=user).values_list("action", flat=True))
    assert {"erasure_requested", "erasure_done", "export_requested"} <= actions


def test_password_account_needs_the_right_password(client, django_user_model):
    user = django_user_model.objects.create_user("pia", "pia@example.test", "right-pass-123")
    client.force_login(user)
    page = client.get(reverse("privacy:delete"))
    assert page.status_code == 200 and b'name="password"' in page.content

    wrong = client.post(
        reverse("privacy:delete"), {"content": "remove", "confirm": "on", "password": "nope"}
    )
    assert wrong.status_code == 400
    assert b"That is not your password." in wrong.content
    unticked = client.post(
        reverse("privacy:delete"), {"content": "remove", "password": "right-pass-123"}
    )
    assert unticked.status_code == 400
    assert not ErasureRequest.objects.exists()
    user.refresh_from_db()
    assert user.is_active

    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post(
            reverse("privacy:delete"),
            {"content": "remove", "confirm": "on", "password": "right-pass-123"},
        )
    assert done.status_code == 302 and done["Location"] == reverse("privacy:deleted")
    user.refresh_from_db()
    assert not user.is_active and user.email == ""


def test_grace_period_schedules_and_can_be_cancelled(client, django_user_model):
    PrivacySettings.objects.update_or_create(pk=1, defaults={"erasure_grace_days": 14})
    user = django_user_model.objects.create_user("gus", "gus@example.test", "right-pass-123")
    client.force_login(user)
    response = client.post(
        reverse("privacy:delete"),
        {"content": "keep", "confirm": "on", "password": "right-pass-123"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("privacy:delete")
    erasure = ErasureRequest.objects.get(user=user)
    assert erasure.status == "scheduled"
    assert (erasure.scheduled_for - erasure.requested_at).days == 14
    # not due yet: the scheduled task leaves it alone
    from privacy.tasks import run_due_erasures

    assert run_due_erasures() == 0
    user.refresh_from_db()
    assert user.is_active and user.email == "gus@example.test"
    page = client.get(reverse("privacy:delete"))
    assert b"Cancel the deletion" in page.content

    assert client.post(reverse("privacy:delete_cancel")).status_code == 302
    erasure.refresh_from_db()
    assert erasure.status == "cancelled"
    # a second cancel is refused with a message, not a 500
    again = client.post(reverse("privacy:delete_cancel"), follow=True)
    assert b"There is no account deletion to cancel." in again.content


def test_due_erasure_runs_once_when_the_grace_period_is_over(django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    from privacy import services
    from privacy.tasks import run_due_erasures

    PrivacySettings.objects.update_or_create(pk=1, defaults={"erasure_grace_days": 3})
    user = django_user_model.objects.create_user("hal", "hal@example.test", "x")
    erasure = services.erasure_request(user=user)
    ErasureRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    assert run_due_erasures() == 1
    erasure.refresh_from_db()
    assert erasure.status == "done"
    assert services.erasure_run(erasure_id=erasure.pk).status == "done"  # idempotent
    assert AuditEntry.objects.filter(subject=user, action="erasure_done").count() == 1


def test_staff_erasure_needs_a_reason_and_is_audited(admin_client, django_user_model):
    user = django_user_model.objects.create_user("ivy", "ivy@example.test", "x")
    url = reverse("admin:privacy_erasurerequest_add")
    refused = admin_client.post(url, {"user": user.pk, "reason": ""})
    assert refused.status_code == 200  # form shown again with the error
    assert not ErasureRequest.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(url, {"user": user.pk, "reason": "Asked by letter, ticket 42"})
    assert response.status_code == 302
    erasure = ErasureRequest.objects.get(user=user)
    assert erasure.status == "done" and erasure.requested_by.is_staff
    entry = AuditEntry.objects.get(subject=user, action="erasure_requested")
    assert entry.by_staff and entry.reason == "Asked by letter, ticket 42"
    user.refresh_from_db()
    assert user.email == ""


def test_staff_accounts_cannot_be_erased_from_the_shop(client, django_user_model):
    staff = django_user_model.objects.create_user(
        "sam", "sam@example.test", "pw-123456", is_staff=True
    )
    client.force_login(staff)
    response = client.post(
        reverse("privacy:delete"), {"content": "remove", "confirm": "on", "password": "pw-123456"}
    )
    assert response.status_code == 409
    assert b"Staff accounts are not erased here" in response.content
    staff.refresh_from_db()
    assert staff.is_active
