import threading

import pytest
from django.db import connection
from django.urls import reverse

from personalization.models import Event
from social.engagement import likeable, services
from social.engagement.exceptions import ItemNotFound
from social.engagement.models import Like
from tests.factories import PASSWORD, ProductFactory, UserFactory


def like_url(product):
    return reverse("engagement:like", args=["product", product.pk])


@pytest.mark.django_db
def test_like_form_without_js_likes_then_unlikes_and_goes_back(client):
    shopper, product = UserFactory(), ProductFactory()
    client.force_login(shopper)
    page = product.get_absolute_url() + "?from=list"

    response = client.post(like_url(product), {"liked": "1", "next": page})

    assert response.status_code == 302 and response["Location"] == page
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1
    response = client.post(like_url(product), {"liked": "0", "next": page})
    assert response.status_code == 302
    assert not Like.objects.filter(user=shopper).exists()


@pytest.mark.django_db
def test_like_without_state_toggles(client):
    shopper, product = UserFactory(), ProductFactory()
    client.force_login(shopper)
    client.post(like_url(product))
    assert Like.objects.filter(user=shopper).count() == 1
    client.post(like_url(product))
    assert Like.objects.filter(user=shopper).count() == 0


@pytest.mark.django_db
def test_like_with_htmx_returns_the_button_in_its_new_state(client, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 1
    shopper, product = UserFactory(), ProductFactory()
    client.force_login(shopper)

    response = client.post(
        like_url(product), {"liked": "1", "next": "/products/"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-pressed="true"' in html
    assert 'class="like-count">1' in html
    assert 'name="liked" value="0"' in html  # the next click removes the like
    assert 'name="next" value="/products/"' in html


@pytest.mark.django_db
def test_a_like_records_one_like_event_and_a_repeat_records_none(client):
    shopper, product = UserFactory(), ProductFactory()
    client.force_login(shopper)
    client.post(like_url(product), {"liked": "1"})
    client.post(like_url(product), {"liked": "1"})
    events = Event.objects.filter(kind="like", user=shopper)
    assert events.count() == 1
    assert events.get().product == product
    assert events.get().attributes == {"target": "product", "object_id": product.pk}


@pytest.mark.django_db
def test_anonymous_shopper_is_asked_to_sign_in_and_comes_back(client):
    product = ProductFactory()
    page = product.get_absolute_url()

    response = client.post(like_url(product), {"liked": "1", "next": page})

    assert response.status_code == 302
    login = response["Location"]
    assert login.startswith(reverse("account_login"))
    assert Like.objects.count() == 0
    shopper = UserFactory()
    response = client.post(login, {"login": shopper.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == page


@pytest.mark.django_db
def test_anonymous_htmx_like_redirects_the_whole_page_to_sign_in(client):
    product = ProductFactory()
    response = client.post(like_url(product), {"next": "/products/?page=2"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("account_login") + "?next=%2Fproducts%2F%3Fpage%3D2"


@pytest.mark.django_db
def test_next_pointing_to_another_site_is_ignored(client):
    shopper, product = UserFactory(), ProductFactory()
    client.force_login(shopper)
    response = client.post(like_url(product), {"next": "https://evil.example/"})
    assert response["Location"] == product.get_absolute_url()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path_args, message",
    [
        (["product", 999999], "That product is not available."),  # missing
        (["product", "not-a-number"], "That item does not exist."),
        (["unicorn", 1], "That kind of item cannot be liked or shared."),  # not likeable
    ],
)
def test_liking_something_that_does_not_exist_is_a_clear_404(client, path_args, message):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("engagement:my_likes")).status_code == 200  # signed in
    response = client.post(reverse("engagement:like", args=path_args), {"liked": "1"})
    assert response.status_code == 404
    assert message in response.content.decode()
    assert Like.objects.count() == 0


@pytest.mark.django_db
def test_liking_a_hidden_product_is_refused(client):
    product = ProductFactory(is_active=False)
    client.force_login(UserFactory())
    response = client.post(like_url(product), {"liked": "1"})
    assert response.status_code == 404
    assert "That product is not available." in response.content.decode()
    assert Like.objects.count() == 0
    with pytest.raises(ItemNotFound):
        services.like_add(user=UserFactory(), obj=product)


@pytest.mark.django_db
def test_bad_like_state_is_a_400(client):
    client.force_login(UserFactory())
    response = client.post(like_url(ProductFactory()), {"liked": "maybe"})
    assert response.status_code == 400
    assert b"liked=1" in response.content


@pytest.mark.django_db
def test_like_is_post_only(client):
    client.force_login(UserFactory())
    assert client.get(like_url(ProductFactory())).status_code == 405


@pytest.mark.django_db
def test_my_likes_lists_visible_likes_newest_first(client):
    shopper = UserFactory()
    first, second, hidden = (
        ProductFactory(name="First"),
        ProductFactory(name="Second"),
        ProductFactory(name="Gone"),
    )
    for product in (first, second, hidden):
        services.like_add(user=shopper, obj=product)
    hidden.is_active = False
    hidden.save()
    client.force_login(shopper)

    html = client.get(reverse("engagement:my_likes")).content.decode()

    assert html.index("Second") < html.index("First")
    assert "Gone" not in html


@pytest.mark.django_db
def test_my_likes_needs_sign_in(client):
    response = client.get(reverse("engagement:my_likes"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_another_model_can_register_and_be_liked(client):
    """How reviews and forum posts will plug in: register the model, then like it."""
    from shop.models import Brand

    Brand.get_absolute_url = lambda self: f"/brands/{self.slug}/"
    likeable.register(Brand, key="brand", is_visible=lambda brand: brand.slug != "secret")
    try:
        shopper = UserFactory()
        brand = ProductFactory().brand
        client.force_login(shopper)
        response = client.post(reverse("engagement:like", args=["brand", brand.pk]))
        assert response.status_code == 302
        assert Like.objects.get(user=shopper).target == brand
    finally:
        likeable.unregister(Brand)
        del Brand.get_absolute_url


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_likes_give_one_row_and_one_event():
    shopper, product = UserFactory(), ProductFactory()
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results, errors = [], []

    def click():
        try:
            barrier.wait(timeout=10)
            results.append(services.like_add(user=shopper, obj=product))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [False] * (threads_n - 1) + [True]
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1
    assert Event.objects.filter(kind="like", user=shopper).count() == 1
