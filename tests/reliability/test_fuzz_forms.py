"""A fuzz pass over every form (issue 16): hostile values never give a 5xx and lose nothing.

Two layers, both with hypothesis (derandomized, so a run is repeatable; few examples, so the
whole file stays well under 90 s):

- every Form class the project defines (found by walking the project's modules, admin forms
  included) validates any values — random and hostile text, huge, NUL bytes, invisible-only,
  mixed scripts, numbers, lists where one value is expected — without raising, and every
  refusal carries a message;
- every shopper-facing form is posted over HTTP with such values (sign-up, sign-in, cart,
  coupon code, checkout, review, question, topic, post, permission screen, interests, profile
  settings, preference centre): the answer is never a 5xx, a refusal says why, and what the
  shopper had before (cart, orders, reviews, posts) is still there.
"""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from django import forms
from django.conf import settings as django_settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shop.models import CartItem, Order
from social.forums.models import Post
from social.reviews.models import Review
from tests.community_factories import ForumCategoryFactory, OldUserFactory, order_for
from tests.factories import ProductFactory, ShippingMethodFactory

pytestmark = [pytest.mark.django_db]

ROOT = Path(django_settings.BASE_DIR)
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u200b\u200b\u200b",  # invisible only
    "\u202eevil\u202c",
    "Ⅷ ｆｕｌｌ ѕсrіpt ΑΒΓ مرحبا 你好 🦄",
    "<script>alert(1)</script>",
    "'; DROP TABLE shop_order; --",
    "../../etc/passwd",
    "%s%s%n",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "12/99",
    "4242 4242 4242 4242",
    "x" * 100_000,  # huge
    "\ud7ff\ue000\uffff",
    "true",
    "[]",
]
VALUE = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.integers().map(str),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
)
FIELD = st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3))  # a list: the wrong type
FUZZ = hsettings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def project_form_classes() -> list[type]:
    """Every Form class defined in the project's own packages (not in libraries)."""
    for module in _project_modules():
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 (scripts and migrations that are not importable alone)
            continue
    found, stack = [], [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        source = inspect.getsourcefile(cls) or ""
        if source.startswith(str(ROOT)) and ".venv" not in source and "/tests/" not in source:
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _project_modules():
    for app in django_settings.INSTALLED_APPS:
        package = importlib.import_module(app.rsplit(".apps.", 1)[0])
        path = Path(getattr(package, "__file__", "") or "").parent
        if not str(path).startswith(str(ROOT)) or ".venv" in str(path):
            continue
        yield package.__name__
        for info in pkgutil.walk_packages([str(path)], prefix=package.__name__ + "."):
            if ".migrations" not in info.name and ".management" not in info.name:
                yield info.name


def _make(cls, data, user):
    """An instance of ``cls`` bound to ``data``, with the arguments its __init__ requires."""
    kwargs = {}
    params = inspect.signature(cls.__init__).parameters
    if "offered" in params:
        kwargs["offered"] = ["basic", "age", "interests"]
    if "user" in params:
        kwargs["user"] = user
    return cls(data=data, **kwargs)


def test_every_project_form_is_found():
    names = {c.__name__ for c in project_form_classes()}
    # the shopper-facing ones named in issue 16, and staff ones from admin modules
    for expected in (
        "CheckoutForm",
        "ReviewForm",
        "QuestionForm",
        "PostForm",
        "TopicForm",
        "PermissionForm",
        "ProfileForm",
        "SignupForm",
        "PreferencesForm",
        "DeleteAccountForm",
        "CouponForm",
        "RangeForm",
    ):
        assert expected in names, (expected, sorted(names))


@pytest.mark.parametrize("form_class", project_form_classes(), ids=lambda c: c.__qualname__)
def test_every_form_validates_hostile_values_without_raising(form_class, db):
    user = OldUserFactory()
    probe = _make(form_class, {}, user)
    names = list(probe.fields)
    assert names, f"{form_class} has no fields to fuzz"

    @FUZZ
    @given(st.fixed_dictionaries({}, optional={name: FIELD for name in names}))
    def check(values):
        data = _querydict(values)
        form = _make(form_class, data, user)
        valid = form.is_valid()  # must not raise
        if not valid:
            assert all(str(e) for errors in form.errors.values() for e in errors), form.errors

    check()


def _querydict(values: dict):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in values.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data


# --- over HTTP --------------------------------------------------------------------------------
@pytest.fixture
def shop_state(client):
    """A signed-in shopper with a cart item, an order, a review and a forum post."""
    from social.forums.services import topic_create

    shopper = OldUserFactory(email="fuzz@example.test")
    product = ProductFactory(stock=50)
    ShippingMethodFactory()
    order_for(user=shopper, product=product)
    Review.objects.create(
        product=product,
        author=shopper,
        rating=4,
        title="Fine",
        body="A fine product indeed.",
        status=Review.Status.APPROVED,
    )
    forum = ForumCategoryFactory()
    topic = topic_create(user=shopper, category=forum, title="Lamps", body="Talk about lamps.")
    client.force_login(shopper)  # sign-in itself is fuzzed below, over its own form
    variant = product.variants.get()
    added = client.post(reverse("shop:cart_add"), {"variant": variant.pk, "quantity": "2"})
    assert added.status_code in (200, 302) and CartItem.objects.filter(cart__user=shopper).exists()
    return {"user": shopper, "product": product, "variant": variant, "topic": topic, "forum": forum}


def _counts(user) -> dict:
    return {
        "orders": Order.objects.filter(user=user).count(),
        "reviews": Review.objects.filter(author=user).count(),
        "posts": Post.objects.filter(author=user).count(),
        "cart": sum(CartItem.objects.filter(cart__user=user).values_list("quantity", flat=True)),
    }


def _endpoints(state) -> list[tuple[str, str, list[str], bool]]:
    """(name, url, fields, signed_in) for every shopper-facing form."""
    product, topic, forum = state["product"], state["topic"], state["forum"]
    return [
        (
            "sign-up",
            reverse("account_signup"),
            ["email", "password1", "password2", "marketing_opt_in", "time_zone"],
            False,
        ),
        ("sign-in", reverse("account_login"), ["login", "password", "remember"], False),
        ("cart", reverse("shop:cart_add"), ["variant", "quantity"], True),
        ("coupon code", reverse("shop:cart_code_add"), ["code"], True),
        (
            "checkout",
            reverse("shop:checkout"),
            [
                "email",
                "full_name",
                "line1",
                "line2",
                "city",
                "postcode",
                "country",
                "phone",
                "shipping_method",
                "card_number",
                "card_expiry",
                "card_cvc",
                "quote",
            ],
            True,
        ),
        (
            "review",
            reverse("reviews:write", args=[product.slug]),
            ["rating", "title", "body", "mode"],
            True,
        ),
        ("question", reverse("reviews:ask", args=[product.slug]), ["text"], True),
        ("topic", reverse("forums:topic_new", args=[forum.slug]), ["title", "body"], True),
        ("post", reverse("forums:reply", args=[topic.pk]), ["body"], True),
        (
            "permission screen",
            reverse("social:permissions", args=["friendbook"]),
            ["age", "birthday", "gender", "interests", "friends", "next"],
            False,
        ),
        (
            "interests",
            reverse("personalization:interest_remove"),
            ["dimension", "value", "label"],
            True,
        ),
        (
            "profile settings",
            reverse("engagement:profile_settings"),
            ["is_public", "likes_public", "handle", "display_name", "bio"],
            True,
        ),
        (
            "preference centre",
            reverse("outreach:preferences"),
            ["opted_in", "wanted_topics", "frequency"],
            True,
        ),
    ]


ENDPOINT_NAMES = [
    "sign-up",
    "sign-in",
    "cart",
    "coupon code",
    "checkout",
    "review",
    "question",
    "topic",
    "post",
    "permission screen",
    "interests",
    "profile settings",
    "preference centre",
]


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_hostile_posts_never_5xx_and_lose_nothing(name, client, shop_state):
    from django.test import Client

    _, url, fields, signed_in = next(e for e in _endpoints(shop_state) if e[0] == name)
    browser = client if signed_in else Client()
    user = shop_state["user"]
    seen = {}
    # each valid permission choice waits for the absent provider: fewer examples there
    examples = 3 if name == "permission screen" else FUZZ.max_examples

    @hsettings(FUZZ, max_examples=examples)
    @given(st.fixed_dictionaries({}, optional={field: FIELD for field in fields}))
    def check(values):
        before = _counts(user)
        response = browser.post(url, values)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if name == "permission screen" and response.status_code == 503:
            # No Friendbook identity provider runs in this test: a valid choice is sent on to
            # it and the store answers its deliberate "provider unavailable" 503 page.
            assert b"Friendbook" in response.content, response.content[:500]
        else:
            assert response.status_code < 500, (name, values)
        if 400 <= response.status_code < 500 and response.status_code != 404:
            assert response.content.strip(), f"{name}: a {response.status_code} without a message"
        after = _counts(user)
        placed = after["orders"] > before["orders"]
        for key in ("orders", "reviews", "posts"):
            assert after[key] >= before[key], (name, key, before, after)
        assert placed or after["cart"] >= before["cart"], (name, before, after)

    check()
    assert sum(seen.values()) >= 1
