"""Requests Django refuses before the session and authentication middlewares run get the
store's 400 page, not a 500.

A bad ``Host`` header is refused by ``CommonMiddleware`` (``request.get_host()``) and a form
with too many fields by ``CsrfViewMiddleware`` (reading ``request.POST``); both come before
``AuthenticationMiddleware``, so the 400 page renders with no ``request.user`` and no
``request.session``. Everything the base template and its context processors run (the cart
count, the CSRF token, the banner, the header's account links) must cope with that.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ProductFactory


@pytest.fixture
def visitor():
    # the default test client re-raises whatever a view logged; a browser gets the response
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", [False, True], ids=["no-cookie", "session-cookie"])
def test_a_bad_host_gets_the_stores_400_page(visitor, settings, cookie):
    settings.ALLOWED_HOSTS = ["shop.example"]
    product = ProductFactory()
    if cookie:
        visitor.cookies["sessionid"] = "x" * 32
    ok = visitor.get(reverse("shop:home"), HTTP_HOST="shop.example")
    assert ok.status_code == 200  # precondition: the host that is allowed works
    paths = ["/", reverse("shop:product_list"), product.get_absolute_url(), "/no-such-page/"]
    for path in paths:
        response = visitor.get(path, HTTP_HOST="attacker.example")
        assert response.status_code == 400, path
        assert b"That request did not work" in response.content, path
        assert b"attacker.example" not in response.content, path


@pytest.mark.django_db
def test_a_form_with_too_many_fields_gets_the_stores_400_page(visitor, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    body = "&".join(f"f{i}=1" for i in range(51))
    response = visitor.generic(
        "POST", reverse("shop:cart_add"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"That request did not work" in response.content
