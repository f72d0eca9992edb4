import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from api.services import token_create
from tests.factories import UserFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def high_rates(settings):
    """The matrix and schemathesis make many requests: lift the throttles for them."""
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/min", "user": "100000/min"}
    settings.REST_FRAMEWORK = rest


@pytest.fixture
def customer_service(db):
    """A staff role as the admin knows it: a group with Django permissions."""
    group, _ = Group.objects.get_or_create(name="Customer service (test)")
    group.permissions.set(
        Permission.objects.filter(
            codename__in=["view_user", "change_order"],
            content_type__app_label__in=["auth", "shop"],
        )
    )
    assert group.permissions.count() == 2
    return group


# The permissions the staff endpoints of the features that landed in wave 3 check (the same the
# admin checks); the "staff with role" of the permission matrix holds them all.
FEATURE_PERMISSIONS = (
    [("segments", f"{action}_segment") for action in ("view", "add", "change", "delete")]
    + [("banners", f"{action}_banner") for action in ("view", "add", "change", "delete")]
    + [("loyalty", "view_coupon"), ("loyalty", "add_coupon")]
    + [("outreach", f"{action}_campaign") for action in ("view", "add", "change")]
    + [
        ("crm", f"{action}_{model}")
        for model in ("note", "task")
        for action in ("view", "add", "change", "delete")
    ]
)


@pytest.fixture
def feature_staff(customer_service):
    """The matrix's staff role also holds the wave-3 features' permissions."""
    from django.db.models import Q

    wanted = Q()
    for app_label, codename in FEATURE_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    perms = list(Permission.objects.filter(wanted))
    assert len(perms) == len(FEATURE_PERMISSIONS)
    customer_service.permissions.add(*perms)
    return customer_service


@pytest.fixture
def staff_member(customer_service):
    user = UserFactory(username="agent", is_staff=True)
    user.groups.add(customer_service)
    return user


def bearer(client: APIClient, user, scopes) -> APIClient:
    raw = token_create(user=user, name="test", scopes=list(scopes)).raw
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def place_order(user, product, *, quantity: int = 1):
    """A real paid order through the checkout service, as a shopper makes one."""
    from shop import cart as carts
    from shop.checkout import Address, order_place
    from shop.models import Cart
    from shop.payments import Card
    from tests.factories import ShippingMethodFactory

    cart, _ = Cart.objects.get_or_create(user=user)
    carts.cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=quantity)
    return order_place(
        cart=cart,
        user=user,
        email=user.email,
        address=Address(
            full_name="Ana Novak",
            line1="1 Market St",
            city="Berlin",
            postcode="10115",
            country="DE",
        ),
        shipping_method=ShippingMethodFactory(),
        card=Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123"),
        notify=False,
    )
