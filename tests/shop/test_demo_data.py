"""The demo data keeps the illusion (issue 17, item 19): each product is drawn as itself, review
texts fit the product's category, and an order's number carries the date it was placed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shop.cart import cart_add
from shop.checkout import Address, order_place
from shop.demo.catalogue import TREE, demo_products
from shop.demo.images import product_image
from shop.models import Cart
from shop.payments import Card
from social.reviews.demo import BY_CATEGORY, reviews_texts
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory


def _picture(kind):
    return product_image(kind=kind, colour="Red", seed=1, view=0)


def test_every_demo_product_type_has_a_drawing_of_its_own_kind():
    fallback = _picture("no-such-kind")  # the long coat drawn for unknown kinds
    kinds = {}
    for product in demo_products(count_per_leaf=12):
        product_type = product.name.split(" ", 2)[-1]
        kinds.setdefault(product.category, {})[product_type] = product.image_kind
    for category, by_type in kinds.items():
        for product_type, kind in by_type.items():
            if kind != "jacket":
                assert _picture(kind) != fallback, f"{product_type} has no drawing"
    home = kinds["Home & Kitchen"]
    assert len(set(home.values())) == len(home), "a knife, a bowl and a mug look different"
    assert kinds["Toys & Games"]["Card game"] != kinds["Toys & Games"]["Play ball"]
    assert kinds["Sports & Outdoors"]["Dry bag"] != kinds["Sports & Outdoors"]["Insulated bottle"]
    assert kinds["Tops"]["Merino sweater"] != kinds["Tops"]["T-shirt"]


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_review_texts_speak_of_fit_and_sizing_only_for_what_is_worn(rating):
    worn = {"tops", "jackets", "shoes"}
    slugs = {name.lower().replace(" & ", "-").replace(" ", "-") for name, *_ in TREE}
    assert set(BY_CATEGORY) <= slugs, "texts are keyed by real category slugs"
    for slug in slugs - worn:
        for title, body in reviews_texts(slug, rating):
            text = f"{title} {body}".lower()
            assert not any(word in text for word in ("size", "sizing", "fits", "wash")), (
                slug,
                title,
            )


@pytest.mark.django_db
def test_a_backdated_order_is_numbered_with_its_own_date():
    user = UserFactory()
    product = ProductFactory(stock=5)
    cart, _ = Cart.objects.get_or_create(user=user)
    cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=1)
    placed_at = timezone.now() - timedelta(days=100)
    order = order_place(
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
        placed_at=placed_at,
    )
    assert order.created_at == placed_at
    assert order.number.startswith(f"AG{placed_at:%y%m%d}-")
    assert not order.number.startswith(f"AG{timezone.now():%y%m%d}-")


def test_no_two_demo_shoppers_share_a_name():
    from shop.management.commands.seed_demo import FIRST_NAMES, LAST_NAMES, demo_name

    count = len(FIRST_NAMES) * len(LAST_NAMES)
    names = [demo_name(n) for n in range(1, count + 1)]
    assert len(set(names)) == count, "shopper 27 was called what shopper 1 is"


@pytest.mark.django_db
def test_the_demo_never_shows_the_same_review_twice_on_a_product():
    """A newcomer saw "David Garcia: Happy with it" twice on one product: two shoppers of the
    same name who drew the same text. Texts differ per product, and a re-run adds none."""
    import io

    from shop.management.commands.seed_demo import demo_name
    from social.reviews.demo import seed
    from social.reviews.models import Review
    from tests.factories import CategoryFactory

    for n in range(1, 41):
        first, last = demo_name(n)
        UserFactory(
            username=f"shopper{n:02d}",
            email=f"shopper{n:02d}@agora.test",
            first_name=first,
            last_name=last,
        )
    audio = CategoryFactory(name="Audio", slug="audio")
    for n in range(12):
        ProductFactory(name=f"Headphones {n}", category=audio)

    seed(stdout=io.StringIO())
    count = Review.objects.count()
    seed(stdout=io.StringIO())

    rows = list(Review.objects.values_list("product_id", "author_id", "title"))
    assert len(rows) == count > 12, "the re-run added nothing; most products got reviews"
    assert len({(p, t) for p, _, t in rows}) == len(rows), "a text repeated on a product"
    assert len({(p, a) for p, a, _ in rows}) == len(rows), "one review per shopper"
