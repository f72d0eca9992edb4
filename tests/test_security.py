"""Security hardening (issue 16): headers and CSP on every page, sign-in throttles and the admin
lock-out, and shopper photos checked by their content and stripped of metadata."""

import io
import mimetypes
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from social.reviews import services as reviews
from social.reviews.exceptions import InvalidReview
from social.reviews.models import ReviewPhoto
from tests.community_factories import order_for
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ShippingMethodFactory,
    UserFactory,
)

UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "*")


def _directives(header: str) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.django_db
def test_every_kind_of_page_sends_the_security_headers(client, admin_client):
    product = ProductFactory(category=CategoryFactory(name="Jackets"))
    pages = [
        (client, "/"),
        (client, reverse("shop:product_list")),
        (client, product.get_absolute_url()),
        (client, reverse("account_login")),
        (client, "/no-such-page/"),
        (client, "/admin/login/"),
        (admin_client, "/admin/"),
        (client, "/api/schema/"),
    ]
    for who, path in pages:
        response = who.get(path)
        expected = 404 if path == "/no-such-page/" else 200
        assert response.status_code == expected, (path, response.status_code)
        csp = _directives(response["Content-Security-Policy"])
        for directive in ("default-src", "script-src", "style-src"):
            assert csp[directive] == ["'self'"], (path, directive, csp[directive])
        assert not any(token in UNSAFE for values in csp.values() for token in values), path
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["object-src"] == ["'none'"], path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "camera=()" in response["Permissions-Policy"], path
        assert "geolocation=()" in response["Permissions-Policy"], path


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_policy_without_a_single_violation(live_server):
    """Chromium reports every script, style or frame the policy blocks; there must be none."""
    from django.contrib.auth import get_user_model

    from tests.browser import browser

    category = CategoryFactory(name="Jackets")
    product = ProductFactory(
        name="Harbour Rain Jacket",
        price=Decimal("89.00"),
        category=category,
        variants=[{"size": "M", "stock": 3}],
    )
    ProductImageFactory(product=product)
    ShippingMethodFactory()
    buyer = UserFactory()
    order_for(user=buyer, product=product)
    reviews.review_create(
        user=buyer, product=product, rating=4, title="Dry", body="Kept me dry all week."
    )
    get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD)
    store_pages = [
        "/",
        reverse("shop:product_list") + "?q=jacket",
        reverse("shop:category", args=["jackets"]),
        product.get_absolute_url(),  # the rating bars used to be inline styles
        reverse("account_login"),
        reverse("account_signup"),
        "/api/docs/",
    ]
    admin_pages = ["/admin/", "/admin/shop/product/", f"/admin/shop/product/{product.pk}/change/"]
    violations = []
    with browser() as chromium:
        page = chromium.new_page()
        page.on(
            "console",
            lambda msg: (
                violations.append((page.url, msg.text))
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        for path in store_pages:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
        page.goto(live_server.url + "/admin/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(live_server.url + "/admin/")
        for path in admin_pages:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
        page.close()
    assert violations == []


@pytest.mark.django_db
def test_admin_sign_in_locks_out_after_five_failures_even_with_the_right_password(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD)
    for attempt in range(4):
        response = client.post("/admin/login/", {"username": "boss", "password": f"wrong{attempt}"})
        assert response.status_code == 200, attempt  # the form again, with its error
        assert "Please enter the correct" in response.content.decode()
    response = client.post("/admin/login/", {"username": "boss", "password": "wrong-fifth"})
    assert response.status_code == 429  # the fifth failure locks
    response = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out of the same account.
    other = client_class_for_ip("10.1.2.3")
    response = other.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 302
    assert other.session["_auth_user_id"]


def client_class_for_ip(ip):
    from django.test import Client

    return Client(REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_store_sign_in_is_throttled_after_repeated_failures(client):
    user = UserFactory()
    url = reverse("account_login")
    for attempt in range(4):
        response = client.post(url, {"login": user.email, "password": f"wrong-{attempt}"})
        assert response.status_code == 200, attempt
        assert "not correct" in response.content.decode()
    # allauth counts the attempt before checking it: the fifth in five minutes is refused.
    response = client.post(url, {"login": user.email, "password": "wrong-fifth"})
    assert response.status_code == 429
    response = client.post(url, {"login": user.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_up_and_password_reset_are_throttled(client):
    signup = reverse("account_signup")
    statuses = []
    for n in range(11):
        response = client.post(
            signup,
            {"email": f"new{n}@example.test", "password1": "Sturdy-pass-9", "password2": "x"},
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10  # refused for the mismatched password, with a message
    assert statuses[10] == 429
    user = UserFactory()
    reset = reverse("account_reset_password")
    statuses = [client.post(reset, {"email": user.email}).status_code for _ in range(6)]
    assert statuses[0] == 302
    assert statuses[-1] == 429


def _image_bytes(fmt: str, size=(64, 48), exif=None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (59.0, 54.0, 50.0)  # latitude: where the shopper lives
    gps[3], gps[4] = "E", (10.0, 45.0, 5.0)
    return exif.tobytes()


@pytest.mark.django_db
def test_review_photos_are_stored_without_exif_and_served_as_images(client):
    product = ProductFactory()
    buyer = UserFactory()
    order_for(user=buyer, product=product)
    original = _image_bytes("JPEG", exif=_gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "precondition: GPS in it"
    upload = SimpleUploadedFile("holiday.png", original, content_type="image/png")
    review = reviews.review_create(
        user=buyer,
        product=product,
        rating=5,
        title="Great",
        body="Great on the trail.",
        photos=[upload],
    )
    photo = ReviewPhoto.objects.get(review=review)
    assert photo.image.name.endswith(".jpg")  # named by its content, not by the upload's name
    stored = Image.open(photo.image.open("rb"))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert stored.info.get("exif") is None
    assert mimetypes.guess_type(photo.image.name)[0] == "image/jpeg"  # what media is served as


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cat.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "not a photo"),
        ("page.png", b"<html><script>alert(1)</script></html>", "not a photo"),
        ("anim.gif", _image_bytes("GIF"), "JPEG, PNG or WebP"),
        ("scan.tiff", _image_bytes("TIFF"), "JPEG, PNG or WebP"),
        ("huge.png", _image_bytes("PNG", size=(8000, 6000)), "40 megapixels"),
        ("big.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1), "smaller than 5 MB"),
    ],
)
@pytest.mark.django_db
def test_unsafe_uploads_are_refused_with_a_message_and_nothing_is_stored(name, content, message):
    product = ProductFactory()
    buyer = UserFactory()
    order_for(user=buyer, product=product)
    with pytest.raises(InvalidReview, match=message):
        reviews.review_create(
            user=buyer,
            product=product,
            rating=4,
            title="Hm",
            body="Here is my photo.",
            photos=[SimpleUploadedFile(name, content, content_type="image/jpeg")],
        )
    assert not ReviewPhoto.objects.exists()
    assert not product.reviews.exists()
