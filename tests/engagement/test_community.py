"""Likes on reviews and forum posts, the share bar on topics and the profile sections of
reviews and posts: the engagement features wired into the reviews and forums apps."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization.models import Event
from social.engagement import profile_sections
from social.engagement import services as engagement
from social.engagement.models import Like, ShareVisit
from social.forums import services as forums
from social.reviews import services as reviews
from tests.community_factories import ForumCategoryFactory, OldUserFactory, order_for
from tests.engagement_factories import follow, profile_of, public_shopper
from tests.factories import ProductFactory, UserFactory


def _review(*, product, user=None, rating=4, title="Sturdy and warm"):
    user = user or UserFactory()
    order_for(user=user, product=product)  # verified buyers are approved at once
    return reviews.review_create(
        user=user, product=product, rating=rating, title=title, body="Kept me dry all week."
    )


def _pending_review(*, product, user=None):
    return reviews.review_create(  # not a buyer, no approved review yet: waits for moderation
        user=user or UserFactory(), product=product, rating=2, title="Hm", body="Not sure yet."
    )


def _topic(*, user=None, title="Which jacket for rain?", category=None):
    return forums.topic_create(
        user=user or OldUserFactory(),
        category=category or ForumCategoryFactory(),
        title=title,
        body="Any tips for a wet week in the hills?",
    )


def _first_post(topic):
    return topic.posts.get(number=1)


def like_url(key, obj):
    return reverse("engagement:like", args=[key, obj.pk])


def _like_forms(html, key):
    return re.findall(rf'<form method="post" action="/likes/{key}/(\d+)/"', html)


# --- liking reviews and posts ----------------------------------------------------------------


@pytest.mark.django_db
def test_review_like_form_without_js_toggles_and_returns_to_the_review(client):
    product = ProductFactory()
    review = _review(product=product)
    shopper = UserFactory()
    client.force_login(shopper)
    page = product.get_absolute_url()
    html = client.get(page).content.decode()
    assert _like_forms(html, "review") == [str(review.pk)]
    back = re.search(r'name="next" value="([^"]*#review-\d+)"', html).group(1)
    assert back == f"{page}#review-{review.pk}"

    response = client.post(like_url("review", review), {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert Like.objects.filter(user=shopper, object_id=review.pk).count() == 1
    client.post(like_url("review", review), {"next": back})
    assert not Like.objects.filter(user=shopper).exists()


@pytest.mark.django_db
def test_review_like_with_htmx_answers_the_pressed_button(client):
    review = _review(product=ProductFactory())
    client.force_login(UserFactory())

    response = client.post(like_url("review", review), {"liked": "1"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'aria-pressed="true"' in fragment and "is-liked" in fragment
    assert f'action="/likes/review/{review.pk}/"' in fragment
    assert 'name="liked" value="0"' in fragment  # the next press withdraws the like


@pytest.mark.django_db
def test_post_like_toggles_without_js_and_with_htmx(client):
    topic = _topic()
    reply = forums.post_create(user=OldUserFactory(), topic_id=topic.pk, body="The blue one.")
    shopper = UserFactory()
    client.force_login(shopper)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert set(_like_forms(html, "post")) == {str(_first_post(topic).pk), str(reply.pk)}

    response = client.post(like_url("post", reply), {"next": topic.get_absolute_url()})
    assert response.status_code == 302
    assert Like.objects.filter(user=shopper, object_id=reply.pk).exists()

    response = client.post(like_url("post", reply), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'aria-pressed="false"' in response.content.decode()
    assert not Like.objects.filter(user=shopper).exists()


@pytest.mark.django_db
def test_anonymous_like_of_a_post_asks_to_sign_in_and_come_back(client):
    topic = _topic()
    back = topic.get_absolute_url() + f"#post-{_first_post(topic).pk}"
    response = client.post(like_url("post", _first_post(topic)), {"next": back})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_likes_of_reviews_and_posts_are_events_about_their_product_and_topic():
    product = ProductFactory()
    review = _review(product=product, rating=2)
    topic = _topic()
    post = _first_post(topic)
    shopper = UserFactory()

    engagement.like_set(user=shopper, obj=review, liked=True)
    engagement.like_set(user=shopper, obj=post, liked=True)

    review_like = Event.objects.get(kind=Event.Kind.LIKE, attributes__target="review")
    assert review_like.product is None  # a liked review is not a liked product
    assert review_like.attributes == {
        "target": "review",
        "object_id": review.pk,
        "product_id": product.pk,
        "rating": 2,
    }
    post_like = Event.objects.get(kind=Event.Kind.LIKE, attributes__target="post")
    assert post_like.product is None and post_like.user == shopper
    assert post_like.attributes == {
        "target": "post",
        "object_id": post.pk,
        "topic_id": topic.pk,
        "category": topic.category.slug,
        "products": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["pending", "rejected", "product_off_sale"])
def test_liking_a_review_that_is_not_public_is_a_clear_404(client, state):
    product = ProductFactory()
    make = _pending_review if state == "pending" else _review
    review = make(product=product)
    if state == "rejected":
        reviews.review_moderate(
            review_id=review.pk, status="rejected", actor=UserFactory(is_staff=True), reason="Spam"
        )
    if state == "product_off_sale":
        product.is_active = False
        product.save()
    client.force_login(UserFactory())

    response = client.post(like_url("review", review), {"liked": "1"})

    assert response.status_code == 404
    assert "review is not available" in response.content.decode()
    htmx = client.post(like_url("review", review), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 404 and "not available" in htmx.content.decode()
    assert not Like.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["hidden", "deleted", "topic_hidden"])
def test_liking_a_hidden_or_deleted_post_is_a_clear_404(client, state):
    author, staff = OldUserFactory(), UserFactory(is_staff=True)
    topic = _topic()
    post = forums.post_create(user=author, topic_id=topic.pk, body="Something to hide.")
    if state == "hidden":
        forums.post_hide(actor=staff, post_id=post.pk, hidden=True)
    elif state == "deleted":
        forums.post_delete(user=author, post_id=post.pk)
    else:
        forums.topic_moderate(actor=staff, topic_id=topic.pk, action="hide")
    client.force_login(UserFactory())

    response = client.post(like_url("post", post), {"liked": "1"})

    assert response.status_code == 404
    assert "post is not available" in response.content.decode()
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_hidden_posts_have_no_like_button_for_moderators(client):
    topic = _topic()
    post = forums.post_create(user=OldUserFactory(), topic_id=topic.pk, body="Off topic.")
    staff = UserFactory(is_staff=True)
    forums.post_hide(actor=staff, post_id=post.pk, hidden=True)
    client.force_login(staff)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "Hidden from shoppers" in html
    assert _like_forms(html, "post") == [str(_first_post(topic).pk)]


@pytest.mark.django_db
def test_topics_are_shared_not_liked(client):
    topic = _topic()
    client.force_login(UserFactory())
    response = client.post(like_url("topic", topic), {"liked": "1"})
    assert response.status_code == 404
    assert "cannot be liked" in response.content.decode()
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_liked_reviews_and_posts_link_to_their_place_in_my_likes(client):
    product = ProductFactory()
    review = _review(product=product)
    post = _first_post(_topic(title="Boots that last"))
    shopper = UserFactory()
    engagement.like_set(user=shopper, obj=review, liked=True)
    engagement.like_set(user=shopper, obj=post, liked=True)
    client.force_login(shopper)

    html = client.get(reverse("engagement:my_likes")).content.decode()

    assert f'href="{product.get_absolute_url()}#review-{review.pk}"' in html
    assert f'href="{post.get_absolute_url()}"'.replace("&", "&amp;") in html
    assert "Review of " in html and "Post #1 in “Boots that last”" in html
    api = client.get(reverse("api-engagement-likes"))
    assert api.status_code == 200
    urls = {row["url"] for row in api.json()}
    assert any(url.endswith(f"{product.get_absolute_url()}#review-{review.pk}") for url in urls)


# --- query counts with likes present ---------------------------------------------------------


def _count_queries(client, url):
    client.get(url)  # warm caches (category tree, notification counts)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
def test_product_page_queries_stay_the_same_for_1_or_100_liked_reviews(client):
    viewer = OldUserFactory()
    friend = public_shopper(name="Ana")
    follow(viewer, friend)
    one, hundred = ProductFactory(), ProductFactory()
    for product, count in [(one, 1), (hundred, 100)]:
        for n in range(count):
            review = _review(product=product, rating=1 + n % 5)
            engagement.like_set(user=friend, obj=review, liked=True)
            if n % 2 == 0:
                engagement.like_set(user=viewer, obj=review, liked=True)
    client.force_login(viewer)

    few, few_html = _count_queries(client, one.get_absolute_url())
    many, many_html = _count_queries(client, hundred.get_absolute_url())

    assert len(_like_forms(few_html, "review")) == 1
    assert len(_like_forms(many_html, "review")) == 10  # one page of reviews
    assert many_html.count('aria-pressed="true"') >= 5  # the viewer's own likes show
    assert few == many, (few, many)
    client.logout()
    assert (
        _count_queries(client, one.get_absolute_url())[0]
        == (_count_queries(client, hundred.get_absolute_url())[0])
    )


@pytest.mark.django_db
def test_topic_page_queries_stay_the_same_for_1_or_50_liked_posts(client, settings):
    settings.AGORA_FORUMS_RATE_LIMITS = {"new": (1000, 1), "member": (1000, 1)}
    viewer = OldUserFactory()
    friend = public_shopper(name="Ana")
    follow(viewer, friend)
    products = [ProductFactory() for _ in range(4)]
    small, big = _topic(title="Small"), _topic(title="Big thread")
    posters = [OldUserFactory() for _ in range(5)]
    for n in range(49):
        body = f"Post {n} about [[product:{products[n % 4].slug}]]"
        forums.post_create(user=posters[n % 5], topic_id=big.pk, body=body)
    forums.post_create(user=posters[0], topic_id=small.pk, body=f"[[product:{products[0].slug}]]")
    for post in [*small.posts.all(), *big.posts.all()]:
        engagement.like_set(user=friend, obj=post, liked=True)
        engagement.like_set(user=viewer, obj=post, liked=True)
    for product in products:
        engagement.like_set(user=friend, obj=product, liked=True)
    client.force_login(viewer)

    few, few_html = _count_queries(client, small.get_absolute_url())
    many, many_html = _count_queries(client, big.get_absolute_url())

    assert len(_like_forms(few_html, "post")) == 2
    assert len(_like_forms(many_html, "post")) == 20  # one page of posts
    assert many_html.count('class="card-social"') == 19  # mentioned products, with likes
    assert few == many, (few, many)
    client.logout()
    assert (
        _count_queries(client, small.get_absolute_url())[0]
        == (_count_queries(client, big.get_absolute_url())[0])
    )


# --- profile sections ------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_profile_shows_only_approved_reviews_and_visible_posts(client, settings):
    settings.AGORA_FORUMS_RATE_LIMITS = {"new": (1000, 1), "member": (1000, 1)}
    author = public_shopper(name="Bea")
    staff = UserFactory(is_staff=True)
    shown_review = _review(product=ProductFactory(name="Rain Shell"), user=author, title="Dry!")
    hidden_review = _review(product=ProductFactory(), user=author, title="Rejected one")
    reviews.review_moderate(
        review_id=hidden_review.pk, status="rejected", actor=staff, reason="Off topic"
    )
    off_sale = ProductFactory()
    _review(product=off_sale, user=author, title="Gone product")
    off_sale.is_active = False
    off_sale.save()
    shown_topic = _topic(user=author, title="Waxed cotton care")
    hidden_post = forums.post_create(user=author, topic_id=shown_topic.pk, body="Secret reply")
    forums.post_hide(actor=staff, post_id=hidden_post.pk, hidden=True)
    deleted = forums.post_create(user=author, topic_id=shown_topic.pk, body="Regret this")
    forums.post_delete(user=author, post_id=deleted.pk)
    hidden_topic = _topic(user=author, title="Hidden topic title")
    forums.topic_moderate(actor=staff, topic_id=hidden_topic.pk, action="hide")
    client.force_login(UserFactory())

    response = client.get(reverse("engagement:profile", args=[profile_of(author).handle]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Reviews</h2>" in html and "<h2>Forum posts</h2>" in html
    assert "Dry!" in html and "Rain Shell" in html
    assert f"#review-{shown_review.pk}" in html
    assert "Waxed cotton care" in html and "Any tips for a wet week" in html
    for secret in ["Rejected one", "Gone product", "Secret reply", "Regret this", "Hidden topic"]:
        assert secret not in html


@pytest.mark.django_db
def test_private_profile_shows_no_reviews_or_posts_to_others(client):
    author = UserFactory()
    engagement.profile_update(user=author, is_public=False)
    _review(product=ProductFactory(), user=author, title="Private person's review")
    _topic(user=author, title="Private person's topic")
    other = UserFactory()
    client.force_login(other)

    response = client.get(reverse("engagement:profile", args=[profile_of(author).handle]))

    assert response.status_code == 404
    assert "Private person" not in response.content.decode()
    assert profile_sections.filled(user=author, viewer=other) == []
    # the shopper's own preview shows what will appear once the profile is public
    client.force_login(author)
    own = client.get(reverse("engagement:profile", args=[profile_of(author).handle]))
    assert "Private person&#x27;s review" in own.content.decode()


@pytest.mark.django_db
def test_a_profile_without_reviews_or_posts_has_no_empty_sections(client):
    shopper = public_shopper(name="Cy")
    html = client.get(reverse("engagement:profile", args=[profile_of(shopper).handle]))
    assert "<h2>Reviews</h2>" not in html.content.decode()
    assert "<h2>Forum posts</h2>" not in html.content.decode()


# --- sharing topics ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_topic_share_records_an_event_and_the_shared_link_lands_on_the_topic(client, settings):
    settings.SITE_URL = "https://agora.example"
    topic = _topic(title="Best trail shoes?")
    sharer = UserFactory()
    client.force_login(sharer)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert 'class="share-bar"' in html
    assert f'action="/share/topic/{topic.pk}/whatsapp/"' in html

    data = client.post(
        reverse("engagement:share", args=["topic", topic.pk, "copy"]),
        HTTP_ACCEPT="application/json",
    ).json()

    assert data["title"] == "Best trail shoes?" and data["channel"] == "copy"
    code = data["code"]
    assert data["url"] == f"https://agora.example/r/{code}/"
    event = Event.objects.get(kind=Event.Kind.SHARE)
    assert event.user == sharer and event.product is None
    assert event.attributes == {
        "target": "topic",
        "object_id": topic.pk,
        "topic_id": topic.pk,
        "category": topic.category.slug,
        "channel": "copy",
        "code": code,
    }
    network = client.post(reverse("engagement:share", args=["topic", topic.pk, "x"]))
    assert network.status_code == 302 and "Best+trail+shoes" in network["Location"]

    client.logout()
    visit = client.get(f"/r/{code}/")

    assert visit.status_code == 302 and visit["Location"] == topic.get_absolute_url()
    assert ShareVisit.objects.filter(link__code=code).count() == 1
    assert "engagement_referral" in client.session
    assert client.get(visit["Location"]).status_code == 200


@pytest.mark.django_db
def test_hidden_topics_and_reviews_cannot_be_shared(client):
    topic = _topic()
    forums.topic_moderate(actor=UserFactory(is_staff=True), topic_id=topic.pk, action="hide")
    review = _review(product=ProductFactory())
    client.force_login(UserFactory())
    hidden = client.post(reverse("engagement:share", args=["topic", topic.pk, "copy"]))
    assert hidden.status_code == 404 and "topic is not available" in hidden.content.decode()
    not_shareable = client.post(reverse("engagement:share", args=["review", review.pk, "copy"]))
    assert not_shareable.status_code == 404
    assert "cannot be shared" in not_shareable.content.decode()
    assert not Event.objects.filter(kind=Event.Kind.SHARE).exists()


@pytest.mark.django_db
def test_a_visit_through_a_shared_link_of_a_topic_hidden_since_is_a_clear_404(client):
    topic = _topic()
    link = engagement.share_record(obj=topic, channel="email", user=UserFactory())
    forums.topic_moderate(actor=UserFactory(is_staff=True), topic_id=topic.pk, action="hide")
    response = client.get(f"/r/{link.code}/")
    assert response.status_code == 404
    assert "engagement_referral" not in client.session
    assert not ShareVisit.objects.exists()


@pytest.mark.django_db
def test_a_liked_review_does_not_count_as_interest_in_its_product():
    from personalization import services as personalization
    from personalization.selectors import load_profile

    reviewed, liked = ProductFactory(), ProductFactory()
    warning = _review(product=reviewed, rating=1, title="Broke in a week")
    shopper = UserFactory()
    engagement.like_set(user=shopper, obj=warning, liked=True)
    engagement.like_set(user=shopper, obj=liked, liked=True)

    personalization.profile_build_full()

    brands = load_profile(user_id=shopper.pk).top("brand", 10)
    assert str(liked.brand_id) in brands
    assert str(reviewed.brand_id) not in brands
