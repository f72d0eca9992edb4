"""Issue 17, forum items: a post is stored as typed (11), one permission rule for every write on
a post (13), mentions and author names link to public profiles and the follower count follows
at once (14), and reading a topic or opening a notification is a POST (GETs never write)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from social.engagement import services as engagement
from social.forums import rendering, services
from social.forums.exceptions import NotAllowed, TopicLocked
from social.forums.models import Notification, Post, PostReport, TopicRead
from tests.community_factories import ForumCategoryFactory, OldUserFactory, assert_no_xss
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAYLOAD = '![x](x" onerror="alert(1))'


def _topic(*, user=None, body="Any tips for rain?"):
    return services.topic_create(
        user=user or OldUserFactory(),
        category=ForumCategoryFactory(),
        title="Which jacket for rain?",
        body=body,
    )


# --- 11: stored as typed, sanitized at render ---------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        PAYLOAD,
        f"hello {PAYLOAD} end",
        "<b>bold?</b> & <script>alert(1)</script>",
        "[click](javascript:alert(1)) and <img src=x onerror=alert(1)>",
    ],
)
def test_a_post_is_stored_as_typed_and_shown_with_every_word(client, typed):
    author = OldUserFactory()
    topic = _topic(user=author, body=typed)
    post = topic.posts.get()
    assert post.body == typed  # stored as typed, nothing stripped
    assert_no_xss(post.body_html)
    shown = client.get(topic.get_absolute_url()).content.decode()
    assert_no_xss(shown.split('class="posts"')[1])
    # Every word the shopper typed reaches the page (as text when it is not Markdown).
    for word in ("onerror", "alert(1)") if "onerror" in typed else ("alert(1)",):
        assert word in shown.split('class="posts"')[1]
    # The edit form shows the original text, not the sanitized one.
    client.force_login(author)
    form = client.get(reverse("forums:post_edit", args=[post.pk])).content.decode()
    assert (
        typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        in form
    )


def test_images_become_links_with_their_words_and_markdown_still_works():
    html = rendering.render_markdown(
        "**bold** ~~gone~~ `<i>` ![a cat](https://example.test/cat.png)\n# Big",
        nofollow=False,
    )
    assert "<strong>bold</strong>" in html and "<s>gone</s>" in html
    assert "<code>&lt;i&gt;</code>" in html
    assert '<a href="https://example.test/cat.png" rel="ugc noopener noreferrer">a cat</a>' in html
    assert "<img" not in html and "<h1>" not in html and "<h3>Big</h3>" in html


# --- 13: one permission rule for every write on a post --------------------------------------


def _locked_topic_with_post():
    author = OldUserFactory()
    topic = _topic(user=author)
    other = OldUserFactory()
    reply = services.post_create(user=other, topic_id=topic.pk, body="My own reply")
    staff = UserFactory(is_staff=True)
    services.topic_moderate(actor=staff, topic_id=topic.pk, action="lock")
    topic.refresh_from_db()
    assert topic.is_locked and reply.number == 2
    return topic, other, reply, staff


def test_a_locked_topic_refuses_reply_edit_and_delete_everywhere(client):
    topic, other, reply, _ = _locked_topic_with_post()
    # services
    for call in (
        lambda: services.post_create(user=other, topic_id=topic.pk, body="More"),
        lambda: services.post_edit(user=other, post_id=reply.pk, body="Changed"),
        lambda: services.post_delete(user=other, post_id=reply.pk),
    ):
        with pytest.raises(TopicLocked):
            call()
    # web
    client.force_login(other)
    page = client.get(topic.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "This topic is locked" in html
    assert reverse("forums:post_delete", args=[reply.pk]) not in html
    assert reverse("forums:post_edit", args=[reply.pk]) not in html
    assert "quote=" not in html
    delete = client.post(reverse("forums:post_delete", args=[reply.pk]))
    assert delete.status_code == 403 and b"posts cannot be deleted" in delete.content
    edit_form = client.get(reverse("forums:post_edit", args=[reply.pk]))
    assert edit_form.status_code == 403 and b"posts cannot be edited" in edit_form.content
    quote = client.get(topic.get_absolute_url(), {"quote": reply.pk}).content.decode()
    assert "My own reply" not in quote.split('id="reply"')[1]
    # API
    api = APIClient()
    api.force_login(other)
    assert api.delete(f"/api/v1/forums/posts/{reply.pk}/").status_code == 403
    patched = api.patch(f"/api/v1/forums/posts/{reply.pk}/", {"body": "x y"}, format="json")
    assert patched.status_code == 403
    reply.refresh_from_db()
    assert (reply.body, reply.is_deleted) == ("My own reply", False)


def test_in_a_locked_topic_reports_still_work_and_moderators_may_write(client):
    topic, other, reply, staff = _locked_topic_with_post()
    first = topic.posts.get(number=1)
    report = services.post_report(user=other, post_id=first.pk, reason="Spam link")
    assert report.pk and PostReport.objects.filter(post=first).count() == 1
    post = services.post_create(user=staff, topic_id=topic.pk, body="Locked: see the FAQ.")
    assert post.number == 3


def test_the_rule_refuses_other_peoples_posts_with_the_same_reason_on_every_path():
    topic = _topic()
    other = OldUserFactory()
    post = topic.posts.get()
    for call in (
        lambda: services.post_edit(user=other, post_id=post.pk, body="Mine now"),
        lambda: services.post_delete(user=other, post_id=post.pk),
    ):
        with pytest.raises(NotAllowed, match="your own posts"):
            call()
    assert (
        services.post_write_refusal(
            user=other, action=services.PostAction.REPORT, topic=topic, post=post
        )
        is None
    )


def test_the_admin_cannot_add_or_delete_posts_around_the_rule():
    post = _topic().posts.get()
    staff = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/")
    request.user = staff
    post_admin = admin.site._registry[Post]
    assert not post_admin.has_add_permission(request)
    assert not post_admin.has_delete_permission(request, post)
    assert "body" in post_admin.get_readonly_fields(request, post)
    assert "is_hidden" not in post_admin.get_readonly_fields(request, post)


# --- 14: mentions and names link to public profiles, live follower count ---------------------


def _public(user, handle):
    engagement.profile_get_or_create(user=user)
    return engagement.profile_update(user=user, handle=handle, is_public=True)


def test_mentions_and_author_names_link_to_public_profiles_only(client):
    public = OldUserFactory(username="shopper33", first_name="Mira")
    private = OldUserFactory(username="hidden7")
    engagement.profile_get_or_create(user=private)
    profile = _public(public, "mira-m")
    topic = _topic(user=public, body="Ask @Shopper33 or @hidden7 or @nobody99, `@shopper33`")
    html = client.get(topic.get_absolute_url()).content.decode()
    body = html.split('class="posts"')[1]
    url = profile.get_absolute_url()
    assert f'<a class="mention" href="{url}">@Shopper33</a>' in body
    assert "@hidden7" in body and 'href="/u/' + "hidden7" not in body
    assert "<code>@shopper33</code>" in body  # not inside code
    assert f'<a class="poster" href="{url}">Mira</a>' in body
    # private again: plain text
    engagement.profile_update(user=public, is_public=False)
    body = client.get(topic.get_absolute_url()).content.decode().split('class="posts"')[1]
    assert url not in body and "@Shopper33" in body


def test_topic_page_queries_stay_constant_with_mentions_and_public_authors(
    client, django_assert_max_num_queries
):
    topic = _topic()
    for i in range(6):
        user = OldUserFactory(username=f"poster{i}")
        _public(user, f"poster-{i}")
        services.post_create(user=user, topic_id=topic.pk, body=f"Hi @poster{(i + 1) % 6}")
    client.get(topic.get_absolute_url())  # warm caches
    with django_assert_max_num_queries(12) as few:
        client.get(topic.get_absolute_url())
    small = len(few.captured_queries)
    for i in range(6, 14):
        user = OldUserFactory(username=f"poster{i}")
        _public(user, f"poster-{i}")
        services.post_create(user=user, topic_id=topic.pk, body=f"Hi @poster{i - 1}")
    with django_assert_max_num_queries(small):
        client.get(topic.get_absolute_url())


def test_following_updates_the_follower_count_in_the_same_response(client):
    star = OldUserFactory()
    profile = _public(star, "star-one")
    fan = OldUserFactory()
    client.force_login(fan)
    page = client.get(profile.get_absolute_url()).content.decode()
    assert '<span id="follower-count" aria-live="polite">0 followers</span>' in page
    response = client.post(
        reverse("engagement:follow", args=[profile.handle]),
        {"action": "follow"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Following" in html
    assert 'id="follower-count"' in html and 'hx-swap-oob="true"' in html
    assert ">1 follower</span>" in html


# --- GETs never write: read position and notifications ---------------------------------------


def test_reading_a_topic_moves_the_read_position_by_post_only(client):
    topic = _topic()
    reader = OldUserFactory()
    services.post_create(user=OldUserFactory(), topic_id=topic.pk, body="Second post")
    client.force_login(reader)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert not TopicRead.objects.filter(user=reader, topic=topic).exists()
    assert 'hx-trigger="load"' in html and 'name="number" value="2"' in html
    assert client.get(reverse("forums:topic_read", args=[topic.pk])).status_code == 405
    response = client.post(
        reverse("forums:topic_read", args=[topic.pk]), {"number": "2"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    read = TopicRead.objects.get(user=reader, topic=topic)
    assert read.last_read_at == topic.posts.get(number=2).created_at
    # never backwards; bad input is a 400
    client.post(reverse("forums:topic_read", args=[topic.pk]), {"number": "1"})
    read.refresh_from_db()
    assert read.last_read_at == topic.posts.get(number=2).created_at
    bad = client.post(reverse("forums:topic_read", args=[topic.pk]), {"number": "x"})
    assert bad.status_code == 400


def test_opening_a_notification_is_a_post(client):
    topic = _topic()
    mentioned = OldUserFactory(username="noted1")
    services.post_create(user=OldUserFactory(), topic_id=topic.pk, body="Hey @noted1")
    note = Notification.objects.get(user=mentioned)
    assert note.read_at is None
    client.force_login(mentioned)
    page = client.get(reverse("forums:notifications")).content.decode()
    assert f'<form method="post" action="{reverse("forums:notification", args=[note.pk])}"' in page
    assert client.get(reverse("forums:notification", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None
    response = client.post(reverse("forums:notification", args=[note.pk]))
    assert response.status_code == 302 and response["Location"].startswith(topic.get_absolute_url())
    note.refresh_from_db()
    assert note.read_at is not None
