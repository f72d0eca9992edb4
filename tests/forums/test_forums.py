"""Forums: posting rules, Markdown safety, mentions, subscriptions, moderation, pages (issue 5)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from personalization.models import Event
from shop.models import Product
from social.forums import demo, services
from social.forums.exceptions import Banned, NotAllowed, RateLimited, TopicLocked
from social.forums.models import ModerationLog, Notification, Post, Topic
from tests.community_factories import (
    XSS_CORPUS,
    ForumCategoryFactory,
    OldUserFactory,
    assert_no_xss,
)
from tests.factories import CategoryFactory, ProductFactory, UserFactory


def _topic(*, user=None, category=None, title="Which jacket for rain?", body="Any tips?"):
    return services.topic_create(
        user=user or OldUserFactory(),
        category=category or ForumCategoryFactory(),
        title=title,
        body=body,
    )


@pytest.mark.django_db
def test_topic_and_replies_keep_counts_numbers_and_events():
    topic = _topic()
    replier = OldUserFactory()
    post = services.post_create(user=replier, topic_id=topic.pk, body="The blue one.")
    topic.refresh_from_db()
    assert (post.number, topic.post_count, topic.last_poster) == (2, 2, replier)
    assert topic.category.topic_count == 1
    assert Event.objects.filter(kind=Event.Kind.FORUM_POST).count() == 2


@pytest.mark.django_db
def test_posting_in_a_locked_topic_is_refused_with_403(client):
    topic = _topic()
    staff = UserFactory(is_staff=True)
    services.topic_moderate(actor=staff, topic_id=topic.pk, action="lock")
    user = OldUserFactory()
    with pytest.raises(TopicLocked):
        services.post_create(user=user, topic_id=topic.pk, body="Let me in")
    client.force_login(user)
    response = client.post(reverse("forums:reply", args=[topic.pk]), {"body": "Let me in"})
    assert response.status_code == 403
    assert b"This topic is locked" in response.content
    assert Post.objects.filter(topic=topic).count() == 1


@pytest.mark.django_db
def test_editing_someone_elses_post_is_forbidden(client):
    topic = _topic()
    first = topic.posts.get()
    intruder = OldUserFactory()
    with pytest.raises(NotAllowed):
        services.post_edit(user=intruder, post_id=first.pk, body="Hacked")
    client.force_login(intruder)
    assert client.get(reverse("forums:post_edit", args=[first.pk])).status_code == 403
    response = client.post(reverse("forums:post_edit", args=[first.pk]), {"body": "Hacked"})
    assert response.status_code == 403
    assert client.post(reverse("forums:post_delete", args=[first.pk])).status_code == 403
    first.refresh_from_db()
    assert first.body == "Any tips?" and not first.is_deleted


@pytest.mark.django_db
def test_edit_window_edited_mark_and_delete_own(client, settings):
    settings.AGORA_FORUMS_EDIT_WINDOW_MINUTES = 30
    author = OldUserFactory()
    topic = _topic(user=author)
    post = topic.posts.get()
    client.force_login(author)
    response = client.post(reverse("forums:post_edit", args=[post.pk]), {"body": "Any **tips**?"})
    assert response.status_code == 302
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "<strong>tips</strong>" in html and "· edited" in html
    Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - timedelta(minutes=31))
    response = client.post(reverse("forums:post_edit", args=[post.pk]), {"body": "Too late"})
    assert response.status_code == 403
    assert b"first 30 minutes" in response.content
    assert client.post(reverse("forums:post_delete", args=[post.pk])).status_code == 302
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "deleted by its author" in html and "tips" not in html.split('class="posts"')[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"title": "", "body": "Body"}, 400, b"give your topic a title"),
        ({"title": "Okay title", "body": ""}, 400, b"the post is empty"),
        ({"title": "Okay title", "body": "   \n  "}, 400, b"the post is empty"),
        ({"title": "Okay title", "body": "x" * 10001}, 400, b"at most 10000 characters"),
        ({"title": "T" * 141, "body": "Body"}, 400, b"at most 140 characters"),
        ({"title": "Hey", "body": "Body"}, 400, b"title is too short"),
    ],
)
def test_bad_topic_input_gets_a_clear_4xx(client, data, status, message):
    category = ForumCategoryFactory()
    client.force_login(OldUserFactory())
    response = client.post(reverse("forums:topic_new", args=[category.slug]), data)
    assert response.status_code == status
    assert message in response.content
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_flooding_is_rate_limited_harder_for_new_accounts(client, settings):
    settings.AGORA_FORUMS_RATE_LIMITS = {"new": (2, 600), "member": (4, 60)}
    topic = _topic()
    newcomer = UserFactory()  # joined just now
    client.force_login(newcomer)
    url = reverse("forums:reply", args=[topic.pk])
    assert client.post(url, {"body": "one"}).status_code == 302
    assert client.post(url, {"body": "two"}).status_code == 302
    response = client.post(url, {"body": "three"})
    assert response.status_code == 429
    assert b"posting too fast" in response.content
    member = OldUserFactory()
    for n in range(4):
        services.post_create(user=member, topic_id=topic.pk, body=f"post {n}")
    with pytest.raises(RateLimited):
        services.post_create(user=member, topic_id=topic.pk, body="post 5")


@pytest.mark.django_db
def test_new_accounts_links_are_nofollow_established_ones_are_not():
    topic = _topic()
    new = services.post_create(user=UserFactory(), topic_id=topic.pk, body="[a](https://x.test)")
    old = services.post_create(user=OldUserFactory(), topic_id=topic.pk, body="[a](https://x.test)")
    assert 'rel="nofollow ugc noopener noreferrer"' in new.body_html
    assert "nofollow" not in old.body_html and "ugc" in old.body_html


@pytest.mark.django_db
@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_in_posts_titles_and_names_never_reaches_the_page(client, payload):
    author = OldUserFactory(first_name=payload[:150])
    client.force_login(author)
    category = ForumCategoryFactory()
    response = client.post(
        reverse("forums:topic_new", args=[category.slug]),
        {"title": f"T {payload}"[:140], "body": f"Hello {payload} and **bold**"},
    )
    assert response.status_code == 302, response.content[:400]
    topic = Topic.objects.get()
    services.post_create(user=author, topic_id=topic.pk, body=f"> {payload}\n\n{payload}")
    for url in [
        topic.get_absolute_url(),
        category.get_absolute_url(),
        reverse("forums:index"),
        reverse("forums:search") + "?q=Hello",
    ]:
        html = client.get(url).content.decode()
        assert_no_xss(html)
    for post in Post.objects.all():
        assert_no_xss(post.body_html)


@pytest.mark.django_db
def test_product_mentions_render_as_cards_and_mentions_notify_after_commit(
    client, django_capture_on_commit_callbacks
):
    product = ProductFactory(name="Storm Shell Jacket")
    mentioned = OldUserFactory(username="rosa", email="rosa@example.test")
    topic = _topic()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post = services.post_create(
            user=OldUserFactory(),
            topic_id=topic.pk,
            body=f"Try [[product:{product.slug}]] or http://127.0.0.1:8000/p/{product.slug}/ "
            "@rosa what do you think?",
        )
        assert mail.outbox == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert post.mentioned_products == [product.pk]
    note = Notification.objects.get(user=mentioned)
    assert note.kind == Notification.Kind.MENTION and note.emailed_at is not None
    [email] = [m for m in mail.outbox if m.to == ["rosa@example.test"]]
    assert topic.title in email.subject and "mentioned you" in email.body
    html = client.get(topic.get_absolute_url()).content.decode()
    assert html.count("Storm Shell Jacket") >= 1 and 'class="card product-card"' in html


@pytest.mark.django_db
def test_subscriptions_notify_in_site_and_by_email(client, django_capture_on_commit_callbacks):
    category = ForumCategoryFactory()
    watcher, author, replier = OldUserFactory(), OldUserFactory(), OldUserFactory()
    services.subscription_set(user=watcher, category=category, on=True)
    with django_capture_on_commit_callbacks(execute=True):
        topic = _topic(user=author, category=category)
        services.post_create(user=replier, topic_id=topic.pk, body="Reply!")
    kinds = sorted(Notification.objects.filter(user=watcher).values_list("kind", flat=True))
    assert kinds == ["topic"]  # the watcher follows the category, not (yet) the topic
    assert Notification.objects.filter(user=author, kind="reply").count() == 1  # auto-follow
    assert {tuple(m.to) for m in mail.outbox} == {(watcher.email,), (author.email,)}
    client.force_login(author)
    assert b'class="forums-notes" aria-label="1 unread' in client.get("/forums/").content
    client.post(reverse("forums:notifications"))
    assert b"forums-notes" not in client.get(reverse("forums:index")).content


@pytest.mark.django_db
def test_following_without_email_notifies_in_the_site_only(
    client, django_capture_on_commit_callbacks
):
    category = ForumCategoryFactory()
    quiet, loud, author = OldUserFactory(), OldUserFactory(), OldUserFactory()
    topic = _topic(user=author, category=category)
    client.force_login(quiet)
    follow = reverse("forums:topic_follow", args=[topic.pk])
    assert client.post(follow, {"on": "1"}).status_code == 302
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Stop emails" in page
    client.post(follow, {"on": "1", "email": "0"})
    assert "Email me too" in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(loud)
    client.post(reverse("forums:category_follow", args=[category.slug]), {"on": "1", "email": "0"})
    services.subscription_set(user=loud, topic=topic, on=True)  # this topic: with email
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(user=author, topic_id=topic.pk, body="News in the topic.")
        _topic(user=author, category=category)  # a new topic in the quiet category
    assert Notification.objects.filter(user=quiet, kind="reply").count() == 1  # in the site
    assert Notification.objects.filter(user=loud).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [loud.email]  # loud's topic email only
    # a mention is always emailed, whatever the subscription says
    with django_capture_on_commit_callbacks(execute=True):
        services.post_create(user=author, topic_id=topic.pk, body=f"@{quiet.username} see this")
    assert quiet.email in [m.to[0] for m in mail.outbox]


@pytest.mark.django_db
def test_unread_markers_for_signed_in_shoppers(client):
    reader = OldUserFactory()
    topic = _topic()
    client.force_login(reader)
    assert b"tag-new" in client.get(topic.category.get_absolute_url()).content
    page = client.get(topic.get_absolute_url()).content.decode()
    assert b"tag-new" in client.get(topic.category.get_absolute_url()).content  # GET wrote nothing
    # the page sends its read position by POST once shown (htmx, or the no-JS button)
    assert 'name="number" value="1"' in page
    read = client.post(reverse("forums:topic_read", args=[topic.pk]), {"number": "1"})
    assert read.status_code == 302
    assert b"tag-new" not in client.get(topic.category.get_absolute_url()).content
    services.post_create(user=OldUserFactory(), topic_id=topic.pk, body="Something new")
    assert b">Unread<" in client.get(topic.category.get_absolute_url()).content
    html = client.get(topic.get_absolute_url()).content.decode()
    assert html.count('class="post unread"') == 1
    again = client.get(topic.get_absolute_url()).content.decode()
    assert again.count('class="post unread"') == 1  # still unread until the page's POST


@pytest.mark.django_db
def test_moderation_lock_pin_move_hide_ban_and_reports(client):
    staff = UserFactory(is_staff=True)
    troll = OldUserFactory()
    topic = _topic(user=troll)
    other = ForumCategoryFactory()
    shopper = OldUserFactory()
    client.force_login(shopper)
    post = topic.posts.get()
    assert (
        client.post(reverse("forums:post_report", args=[post.pk]), {"reason": "Rude"}).status_code
        == 302
    )
    assert (
        client.post(
            reverse("forums:topic_moderate", args=[topic.pk]), {"action": "lock"}
        ).status_code
        == 403
    )
    client.force_login(staff)
    assert b"Rude" in client.get(reverse("forums:moderation")).content
    # every moderation POST answers with its redirect and its own confirmation
    moderate = reverse("forums:topic_moderate", args=[topic.pk])
    for data, said in [
        ({"action": "pin"}, "Topic: pin done."),
        ({"action": "lock"}, "Topic: lock done."),
        ({"action": "move", "category": other.pk}, "Topic: move done."),
    ]:
        response = client.post(moderate, data, follow=True)
        assert response.redirect_chain[0][1] == 302
        assert said in [str(m) for m in response.context["messages"]]
    response = client.post(reverse("forums:post_hide", args=[post.pk]), {"hidden": "1"})
    assert response.status_code == 302
    response = client.post(
        reverse("forums:ban", args=[troll.pk]), {"reason": "Trolling", "days": "7"}, follow=True
    )
    assert f"{troll.username} is banned from the forums." in [
        str(m) for m in response.context["messages"]
    ]
    topic.refresh_from_db()
    post.refresh_from_db()
    assert topic.is_pinned and topic.is_locked and topic.category == other and post.is_hidden
    assert not post.reports.filter(resolved=False).exists()
    assert set(ModerationLog.objects.values_list("action", flat=True)) == {
        "pin",
        "lock",
        "move",
        "hide_post",
        "ban",
    }
    with pytest.raises(Banned):
        services.topic_create(user=troll, category=other, title="I am back", body="hi")
    client.force_login(shopper)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "hidden by a moderator" in html and "Any tips?" not in html


@pytest.mark.django_db
def test_forum_search_finds_titles_and_bodies(client):
    _topic(title="Waterproof boots for hiking", body="Need grip on wet rocks.")
    _topic(title="Headphones", body="Looking for noise cancelling.")
    html = client.get(reverse("forums:search") + "?q=waterproof").content.decode()
    assert "Waterproof boots" in html and "Headphones" not in html
    html = client.get(reverse("forums:search") + "?q=cancelling").content.decode()
    assert "Headphones" in html
    assert client.get(reverse("forums:search") + "?q=%00%3Cscript%3E").status_code == 200


def _topic_page_queries(client, topic):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_topic_page_queries_do_not_grow_with_posts(client, settings):
    settings.AGORA_FORUMS_RATE_LIMITS = {"new": (1000, 1), "member": (1000, 1)}
    products = [ProductFactory() for _ in range(4)]
    small, big = _topic(), _topic(title="Big thread")
    posters = [OldUserFactory() for _ in range(5)]
    for n in range(49):
        services.post_create(
            user=posters[n % 5],
            topic_id=big.pk,
            body=f"Post {n} about [[product:{products[n % 4].slug}]]",
        )
    services.post_create(user=posters[0], topic_id=small.pk, body=f"[[product:{products[0].slug}]]")
    client.get(reverse("forums:index"))  # warm caches
    assert _topic_page_queries(client, small) == _topic_page_queries(client, big)
    client.force_login(OldUserFactory())
    client.get(reverse("forums:index"))  # warm the per-shopper caches (notification count)
    first_small = _topic_page_queries(client, small)
    assert first_small == _topic_page_queries(client, big)
    assert first_small <= 16, first_small


@pytest.mark.django_db
def test_demo_topics_mention_products_that_fit_the_topic():
    for name in ["Cameras", "Jackets", "Audio", "Tops", "Beauty", "Books"]:
        category = CategoryFactory(name=name, slug=name.lower())
        for _ in range(4):
            ProductFactory(category=category)
    for n in range(5):
        OldUserFactory(username=f"demo{n}", email=f"demo{n}@agora.test")
    demo.seed(stdout=StringIO())
    expected = {"camera": "Cameras", "jacket": "Jackets", "headphones": "Audio", "sweater": "Tops"}
    checked = 0
    for topic in Topic.objects.all():
        word = next((w for w in expected if w in topic.title.lower()), None)
        mentioned = [pk for post in topic.posts.all() for pk in post.mentioned_products]
        if word is None or not mentioned:
            continue
        names = set(
            Product.objects.filter(pk__in=mentioned).values_list("category__name", flat=True)
        )
        assert names == {expected[word]}, topic.title
        checked += 1
    assert checked == 4
