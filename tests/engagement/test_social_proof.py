"""Social proof and privacy: names only from followed shoppers with public likes; totals
only at or above the minimum; the product list costs the same queries with or without."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.selectors import CATEGORY_TREE_KEY
from social.engagement import selectors, services
from social.engagement.models import Like
from social.models import Connection
from tests.engagement_factories import follow, public_shopper
from tests.factories import CategoryFactory, ProductFactory, UserFactory


@pytest.fixture
def viewer():
    return UserFactory(first_name="Viewer")


@pytest.mark.django_db
def test_liked_by_names_a_followed_public_liker_and_counts_the_others(client, viewer):
    product = ProductFactory()
    ana = public_shopper(name="Ana")
    others = [public_shopper(name=f"Other{n}") for n in range(3)]
    for person in [*others, ana]:
        follow(viewer, person)
        services.like_add(user=person, obj=product)
    client.force_login(viewer)

    html = client.get(product.get_absolute_url()).content.decode()

    assert "Liked by" in html
    assert ">Ana</a> and 3 others you follow" in html


@pytest.mark.django_db
def test_friends_from_a_social_network_count_as_followed(viewer):
    product = ProductFactory()
    ben = public_shopper(name="Ben")
    follow(viewer, ben, kind=Connection.Kind.FRIEND)
    follow(viewer, ben)  # followed twice over: still one person
    services.like_add(user=ben, obj=product)
    summary = selectors.like_summary(product, viewer=viewer)
    assert [p.name for p in summary.followed] == ["Ben"]
    assert summary.followed_total == 1


@pytest.mark.django_db
def test_private_likes_and_private_profiles_never_show_as_social_proof(client, viewer):
    product = ProductFactory()
    keeps_likes_private = public_shopper(name="Priya", likes_public=False)
    private_profile = UserFactory(first_name="Quentin")
    services.profile_update(user=private_profile, likes_public=True)  # but profile private
    not_followed = public_shopper(name="Rita")
    for person in (keeps_likes_private, private_profile):
        follow(viewer, person)
    for person in (keeps_likes_private, private_profile, not_followed):
        services.like_add(user=person, obj=product)
    client.force_login(viewer)

    html = client.get(product.get_absolute_url()).content.decode()
    list_html = client.get(reverse("shop:product_list")).content.decode()

    for name in ("Priya", "Quentin", "Rita"):
        assert name not in html
        assert name not in list_html
    assert "Liked by" not in html
    summary = selectors.like_summary(product, viewer=viewer)
    assert summary.count == 3 and summary.followed == []


@pytest.mark.django_db
def test_private_likes_stay_off_the_public_profile(client, viewer):
    product = ProductFactory(name="Secret Gift")
    priya = public_shopper(name="Priya", likes_public=False)
    services.like_add(user=priya, obj=product)
    handle = priya.public_profile.handle
    client.force_login(viewer)

    html = client.get(reverse("engagement:profile", args=[handle])).content.decode()

    assert "Secret Gift" not in html
    assert "keeps their likes private" in html
    # and her own view shows them, marked private
    client.force_login(priya)
    html = client.get(reverse("engagement:profile", args=[handle])).content.decode()
    assert "Secret Gift" in html and "Your likes are private" in html


@pytest.mark.django_db
def test_totals_below_the_minimum_are_not_shown(client, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 3
    product = ProductFactory()
    for _ in range(2):
        services.like_add(user=UserFactory(), obj=product)
    html = client.get(product.get_absolute_url()).content.decode()
    assert "like-count" not in html
    services.like_add(user=UserFactory(), obj=product)
    html = client.get(product.get_absolute_url()).content.decode()
    assert 'class="like-count">3' in html


def _make_catalogue(n: int, *, likes: bool, viewer):
    category = CategoryFactory()
    products = [ProductFactory(category=category) for _ in range(n)]
    if likes:
        people = [public_shopper(name=f"P{k}") for k in range(3)] + [UserFactory()]
        for person in people[:3]:
            follow(viewer, person)
        Like.objects.bulk_create(
            [
                Like(user=person, content_type_id=selectors.summary_key(p)[0], object_id=p.pk)
                for person in people
                for p in products
            ]
        )
        services.like_add(user=viewer, obj=products[0])
    cache.delete(CATEGORY_TREE_KEY)  # the new category must be in the cached tree
    return category


def _queries(client, url) -> int:
    client.get(url)  # warm caches that any first request fills (category tree, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_product_list_query_budget_is_the_same_for_1_and_48_products_with_likes(
    client, django_assert_max_num_queries, signed_in
):
    viewer = UserFactory()
    if signed_in:
        client.force_login(viewer)
    small = _make_catalogue(1, likes=False, viewer=viewer)
    budget = _queries(client, reverse("shop:category", args=[small.slug]))

    big = _make_catalogue(48, likes=True, viewer=viewer)
    url = reverse("shop:category", args=[big.slug])
    client.get(url)
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    html = response.content.decode()
    assert html.count('class="card-social"') == 24  # one page of cards, each with its line
    if signed_in:
        assert "and 2 others you follow" in html
    assert 'class="like-count">4' in html or 'class="like-count">5' in html


@pytest.mark.django_db
def test_engagement_adds_at_most_two_queries_to_a_list_of_any_size(viewer):
    products = [ProductFactory() for _ in range(30)]
    with CaptureQueriesContext(connection) as captured:
        selectors.like_summaries(products, viewer=viewer)
    assert len(captured) <= 2
    with CaptureQueriesContext(connection) as captured:
        selectors.like_summaries(products, viewer=None)
    assert len(captured) <= 1


@pytest.mark.django_db
def test_home_page_query_budget_does_not_grow_with_likes(client, django_assert_max_num_queries):
    viewer = UserFactory()
    client.force_login(viewer)
    ProductFactory()
    budget = _queries(client, reverse("shop:home"))
    _make_catalogue(20, likes=True, viewer=viewer)
    client.get(reverse("shop:home"))
    with django_assert_max_num_queries(budget):
        client.get(reverse("shop:home"))


@pytest.mark.django_db
def test_product_page_query_budget_does_not_grow_with_likes_and_related(
    client, django_assert_max_num_queries
):
    viewer = UserFactory()
    client.force_login(viewer)
    lonely = ProductFactory()
    ProductFactory(category=lonely.category)  # one related card (its images are prefetched)
    budget = _queries(client, lonely.get_absolute_url())
    category = _make_catalogue(12, likes=True, viewer=viewer)
    product = category.products.first()
    client.get(product.get_absolute_url())
    with django_assert_max_num_queries(budget):
        response = client.get(product.get_absolute_url())
    assert response.content.decode().count('class="card-social"') == 8
