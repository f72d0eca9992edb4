"""A like clicked while signed out is applied once the shopper signs in or signs up, in the same
browser session, through the real allauth views: once, checked again, and never by a GET."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from personalization.models import Event
from social.engagement import services
from social.engagement.models import Like
from tests.factories import PASSWORD, ProductFactory, UserFactory


def like_url(product):
    return reverse("engagement:like", args=["product", product.pk])


def click_like_signed_out(client, product, **headers):
    """The anonymous shopper's click; returns the sign-in URL they are sent to."""
    page = product.get_absolute_url()
    response = client.post(like_url(product), {"liked": "1", "next": page}, **headers)
    if headers.get("HTTP_HX_REQUEST"):
        assert response.status_code == 204
        return response["HX-Redirect"]
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, login_url, user):
    """Sign in through the login form; fails the test unless the sign-in succeeded."""
    response = client.post(login_url, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, "the sign-in must succeed"
    assert client.session.get("_auth_user_id") == str(user.pk)
    return response


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_like_clicked_signed_out_is_applied_at_sign_in_and_the_page_shows_it(client):
    shopper, product = UserFactory(), ProductFactory(name="Trail Runner")
    page = product.get_absolute_url()

    login_url = click_like_signed_out(client, product)
    assert login_url.startswith(reverse("account_login"))
    assert not Like.objects.exists()  # nothing before sign-in
    response = sign_in(client, login_url, shopper)

    assert response.status_code == 302 and response["Location"] == page
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1
    assert Event.objects.filter(kind="like", user=shopper, product=product).count() == 1
    assert "You like Trail Runner. It is in your likes." in texts(response)
    html = client.get(page).content.decode()
    assert 'aria-pressed="true"' in html  # the page shows the item liked
    assert "You like Trail Runner." in html  # and the confirmation


@pytest.mark.django_db
def test_htmx_click_signed_out_is_applied_at_sign_in_too(client):
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product, HTTP_HX_REQUEST="true")
    response = sign_in(client, login_url, shopper)
    assert response["Location"] == product.get_absolute_url()
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1


@pytest.mark.django_db
def test_like_clicked_signed_out_is_applied_at_sign_up(client):
    product = ProductFactory(name="Rain Jacket")
    login_url = click_like_signed_out(client, product)
    signup_url = reverse("account_signup") + login_url[len(reverse("account_login")) :]

    response = client.post(
        signup_url,
        {"email": "new@agora.test", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
    )

    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    like = Like.objects.get(object_id=product.pk)
    assert like.user.email == "new@agora.test"
    assert Event.objects.filter(kind="like", user=like.user).count() == 1
    assert "You like Rain Jacket. It is in your likes." in texts(response)


@pytest.mark.django_db
def test_item_hidden_before_sign_in_is_not_liked_and_says_so(client):
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product)
    product.is_active = False
    product.save(update_fields=["is_active"])

    response = sign_in(client, login_url, shopper)

    assert response.status_code == 302
    assert not Like.objects.exists()
    assert not Event.objects.filter(kind="like").exists()
    assert any("no longer available, so nothing was liked" in text for text in texts(response))


@pytest.mark.django_db
def test_item_deleted_before_sign_in_is_not_liked_and_says_so(client):
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product)
    product.delete()
    response = sign_in(client, login_url, shopper)
    assert response.status_code == 302
    assert not Like.objects.exists()
    assert any("no longer available" in text for text in texts(response))


@pytest.mark.django_db
def test_already_liked_changes_nothing_and_records_no_second_event(client):
    shopper, product = UserFactory(), ProductFactory(name="Trail Runner")
    services.like_add(user=shopper, obj=product)
    login_url = click_like_signed_out(client, product)

    response = sign_in(client, login_url, shopper)

    assert Like.objects.filter(user=shopper).count() == 1
    assert Event.objects.filter(kind="like", user=shopper).count() == 1
    assert not Event.objects.filter(kind="unlike").exists()  # not a toggle
    assert "You already like Trail Runner." in texts(response)


@pytest.mark.django_db
def test_pending_like_is_applied_once_not_at_a_later_sign_in(client):
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product)
    sign_in(client, login_url, shopper)
    services.like_remove(user=shopper, obj=product)
    client.post(reverse("account_logout"))

    sign_in(client, reverse("account_login"), shopper)

    assert not Like.objects.exists()
    assert Event.objects.filter(kind="like").count() == 1


@pytest.mark.django_db
def test_pending_like_belongs_to_the_browser_that_clicked(client):
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product)

    other_browser = Client()
    response = sign_in(other_browser, login_url, shopper)  # same next URL, other session

    assert response.status_code == 302
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_stale_pending_like_is_dropped(client, settings):
    settings.ENGAGEMENT_PENDING_LIKE_MINUTES = 30
    shopper, product = UserFactory(), ProductFactory()
    login_url = click_like_signed_out(client, product)
    session = client.session
    pending = session[services.PENDING_LIKE_SESSION_KEY]
    pending["at"] = (timezone.now() - timedelta(minutes=31)).isoformat()
    session.save()

    sign_in(client, login_url, shopper)

    assert not Like.objects.exists()


@pytest.mark.django_db
def test_signed_out_unlike_click_leaves_nothing_pending(client):
    shopper, product = UserFactory(), ProductFactory()
    response = client.post(like_url(product), {"liked": "0"})
    sign_in(client, response["Location"], shopper)
    assert not Like.objects.exists()


@pytest.mark.django_db
def test_no_get_ever_creates_a_like(client):
    """A link a signed-in shopper is lured to follow (no CSRF by GET), nor any GET while a like
    is pending, creates a like: only a POST like click, or a sign-in after one, does."""
    shopper, product = UserFactory(), ProductFactory()
    like = like_url(product)
    page = product.get_absolute_url()
    login = reverse("account_login")
    gets = [
        like,
        like + "?liked=1",
        f"{like}?liked=1&next={page}",
        f"{login}?next={like}",
        f"{login}?next={like}%3Fliked%3D1",
        f"{reverse('account_signup')}?next={like}",
        f"{page}?like=1",
        reverse("engagement:my_likes") + "?like=product&id=" + str(product.pk),
    ]

    # Signed out, with a like pending in the session: browsing does not apply it.
    click_like_signed_out(client, product)
    for url in gets:
        client.get(url, follow=True)
    assert not Like.objects.exists()

    # Signed in (without the pending like): no GET creates one.
    fresh = Client()
    fresh.force_login(shopper)
    assert fresh.get(reverse("engagement:my_likes")).status_code == 200  # signed in
    # Each GET ends where it must: the like URL refuses GET (405) however it is reached (the
    # sign-in and sign-up pages send a signed-in shopper straight on to their ``next``).
    expected = {url: 405 for url in gets[:6]} | {url: 200 for url in gets[6:]}
    statuses = {url: fresh.get(url, follow=True).status_code for url in gets}
    assert statuses == expected
    assert fresh.get(like).status_code == 405
    assert not Like.objects.exists()
    assert not Event.objects.filter(kind="like").exists()

    # The pending like is still there: only the sign-in (a POST) applies it.
    sign_in(client, reverse("account_login"), shopper)
    assert Like.objects.filter(user=shopper, object_id=product.pk).count() == 1
