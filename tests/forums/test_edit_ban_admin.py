"""Forums gaps (issue 5): mentions added by an edit notify, bans stop edits and deletes, and the
admin shows a service's refusal alone."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from social.forums import services
from social.forums.exceptions import Banned
from social.forums.models import ForumBan, ModerationLog, Notification, Post
from tests.community_factories import ForumCategoryFactory, OldUserFactory
from tests.factories import UserFactory


def _topic(*, user, body="Any tips for rain?"):
    return services.topic_create(
        user=user, category=ForumCategoryFactory(), title="Which jacket for rain?", body=body
    )


def _mails_to(user) -> int:
    return sum(1 for message in mail.outbox if message.to == [user.email])


# --- 1. mentions added while editing --------------------------------------------------------


@pytest.mark.django_db
def test_a_mention_added_by_an_edit_notifies_once_after_commit(
    client, django_capture_on_commit_callbacks
):
    author = OldUserFactory()
    rosa = OldUserFactory(username="rosa", email="rosa@example.test")
    ben = OldUserFactory(username="ben", email="ben@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        topic = _topic(user=author, body="@rosa which jacket?")
    post = topic.posts.get()
    assert (Notification.objects.filter(user=rosa).count(), _mails_to(rosa)) == (1, 1)

    client.force_login(author)
    edit = reverse("forums:post_edit", args=[post.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(edit, {"body": "@rosa which jacket? And you @ben?"})
        assert response.status_code == 302
        assert _mails_to(ben) == 0  # nothing is sent before the commit
    note = Notification.objects.get(user=ben)
    assert (note.kind, note.post_id, note.actor_id, note.read_at) == (
        Notification.Kind.MENTION,
        post.pk,
        author.pk,
        None,
    )
    for callback in callbacks:
        callback()
    [email] = [m for m in mail.outbox if m.to == [ben.email]]
    assert topic.title in email.subject and "mentioned you" in email.body
    # rosa was already mentioned: no second notification, no second email
    assert (Notification.objects.filter(user=rosa).count(), _mails_to(rosa)) == (1, 1)

    # another edit that keeps both mentions notifies no one again; dropping and re-adding a
    # mention does not either
    with django_capture_on_commit_callbacks(execute=True):
        for body in ("@rosa @ben: which jacket, really?", "Which jacket, really?"):
            assert client.post(edit, {"body": body}).status_code == 302
        assert client.post(edit, {"body": "Which jacket, @ben?"}).status_code == 302
    assert Post.objects.get(pk=post.pk).body == "Which jacket, @ben?"  # every edit landed
    assert Notification.objects.filter(user__in=[rosa, ben]).count() == 2
    assert (_mails_to(rosa), _mails_to(ben)) == (1, 1)
    client.force_login(ben)
    assert b'aria-label="1 unread' in client.get(reverse("forums:index")).content


@pytest.mark.django_db
def test_an_edit_turns_a_followers_reply_notification_into_a_fresh_mention(
    django_capture_on_commit_callbacks,
):
    author, follower = OldUserFactory(), OldUserFactory()
    topic = _topic(user=author)
    services.subscription_set(user=follower, topic=topic, on=True, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_create(user=author, topic_id=topic.pk, body="News here.")
    services.notifications_mark_read(user=follower)
    assert _mails_to(follower) == 0  # follows without email
    with django_capture_on_commit_callbacks(execute=True):
        services.post_edit(user=author, post_id=reply.pk, body=f"News here, @{follower.username}.")
    note = Notification.objects.get(user=follower)
    assert note.kind == Notification.Kind.MENTION and note.read_at is None
    assert _mails_to(follower) == 1  # a mention is always emailed


# --- 2. banned shoppers cannot edit or delete -------------------------------------------------


@pytest.mark.django_db
def test_a_banned_shopper_cannot_edit_delete_or_post(client):
    troll = OldUserFactory()
    topic = _topic(user=troll, body="First words.")
    post = topic.posts.get()
    services.user_ban(actor=UserFactory(is_staff=True), user=troll, reason="Trolling", days=7)
    message = "You cannot post in the forums until"

    with pytest.raises(Banned, match="Trolling"):
        services.post_edit(user=troll, post_id=post.pk, body="Edited words.")
    client.force_login(troll)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert reverse("forums:post_edit", args=[post.pk]) not in page
    assert reverse("forums:post_delete", args=[post.pk]) not in page
    edit = reverse("forums:post_edit", args=[post.pk])
    for response in [client.get(edit), client.post(edit, {"body": "Edited words."})]:
        assert response.status_code == 403
        assert message in response.content.decode() and "Trolling" in response.content.decode()
    response = client.post(reverse("forums:post_delete", args=[post.pk]))
    assert response.status_code == 403 and message in response.content.decode()
    response = client.post(reverse("forums:reply", args=[topic.pk]), {"body": "Hello?"})
    assert response.status_code == 403 and message in response.content.decode()
    response = client.post(
        reverse("forums:topic_new", args=[topic.category.slug]),
        {"title": "I am back again", "body": "Hello there"},
    )
    assert response.status_code == 403 and message in response.content.decode()
    post.refresh_from_db()
    assert (post.body, post.is_deleted, post.edited_at) == ("First words.", False, None)
    assert Post.objects.filter(author=troll).count() == 1


# --- 3. the admin shows a refusal alone -------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_admin_shows_only_the_error_when_the_service_refuses_a_ban(staff_client):
    colleague = UserFactory(is_staff=True)
    add = reverse("admin:forums_forumban_add")
    response = staff_client.post(add, {"user": colleague.pk, "reason": "No", "_save": "1"})
    assert response.status_code == 302 and response.url == add
    assert _messages(response) == ["Staff cannot be banned from the forums."]
    assert not ForumBan.objects.exists() and not ModerationLog.objects.exists()
    staff_client.get(add)  # the page shows (and so consumes) the message

    # a shopper banned before being made staff: changing the ban is refused alone, too
    shopper = OldUserFactory()
    ban = services.user_ban(actor=UserFactory(is_staff=True), user=shopper, reason="Spam")
    shopper.is_staff = True
    shopper.save(update_fields=["is_staff"])
    change = reverse("admin:forums_forumban_change", args=[ban.pk])
    response = staff_client.post(change, {"reason": "Spam again", "_save": "1"}, follow=True)
    assert response.redirect_chain == [(change, 302)]
    page = response.content.decode()
    assert page.count("Staff cannot be banned from the forums.") == 1
    assert "successfully" not in page
    ban.refresh_from_db()
    assert ban.reason == "Spam"
    assert "Staff cannot be banned" not in staff_client.get(change).content.decode()


@pytest.mark.django_db
def test_admin_changes_go_through_the_moderation_services(staff_client):
    shopper = OldUserFactory()
    response = staff_client.post(
        reverse("admin:forums_forumban_add"),
        {"user": shopper.pk, "reason": "Spam", "_save": "1"},
    )
    assert response.status_code == 302
    assert any("was added successfully" in m for m in _messages(response))
    assert ForumBan.objects.get(user=shopper).reason == "Spam"

    topic = _topic(user=OldUserFactory())
    other = ForumCategoryFactory()
    data = {
        "title": "Which jacket, finally?",
        "category": other.pk,
        "author": topic.author_id,
        "is_locked": "on",
        "is_pinned": "on",
        "_save": "1",
    }
    response = staff_client.post(reverse("admin:forums_topic_change", args=[topic.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert any("was changed successfully" in m for m in _messages(response))
    topic.refresh_from_db()
    other.refresh_from_db()
    assert (topic.title, topic.category, topic.is_locked, topic.is_pinned) == (
        "Which jacket, finally?",
        other,
        True,
        True,
    )
    assert (other.topic_count, other.post_count) == (1, 1)
    assert set(ModerationLog.objects.values_list("action", flat=True)) == {
        "ban",
        "lock",
        "pin",
        "move",
    }
