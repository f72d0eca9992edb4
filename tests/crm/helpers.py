"""Customers with a history, made through the services a shopper's acts go through."""

from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from crm import services as crm_services
from personalization import events
from personalization.models import Event
from personalization.services import profile_build_incremental
from shop.cart import cart_add
from shop.checkout import Address, order_place
from shop.models import Cart
from shop.payments import Card
from social import services as social_services
from social.engagement import services as engagement
from social.forums import services as forums
from social.reviews import services as reviews
from tests.community_factories import ForumCategoryFactory, OldUserFactory
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory

CARD = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")


def staff(role: str | None = None, **kwargs):
    """A staff member in ``role`` (a group made by the migration); None: a superuser."""
    user = UserFactory(is_staff=True, is_superuser=role is None, **kwargs)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def buy(user, product, *, phone: str = "", name: str = "Ana Novak", line1: str = "1 Market St"):
    cart, _ = Cart.objects.get_or_create(user=user)
    cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=1)
    return order_place(
        cart=cart,
        user=user,
        email=user.email,
        address=Address(
            full_name=name, line1=line1, city="Berlin", postcode="10115", country="DE", phone=phone
        ),
        shipping_method=ShippingMethodFactory(),
        card=CARD,
        notify=False,
    )


def customer_with_everything(*, n: int = 1, product=None, helper=None):
    """A shopper with orders, a review, a forum post, likes, a share that brought a visit and
    an order, consents with social data, follows, a note, a task and a tag. ``n`` repeats the
    history (orders, events, notes) to grow it without changing its shape."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    product = product or ProductFactory(name="Harbour Jacket", stock=100)
    user = OldUserFactory(first_name="Ana", last_name="Novak", email="ana.novak@example.test")
    social_services.consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=["age", "gender", "interests"],
        profile={
            "display_name": "Ana N.",
            "age_band": "25-34",
            "gender": "female",
            "interests": ["hiking", "photography"],
        },
    )
    for i in range(n):
        buy(user, product, phone="+49 170 1234567")
        events.record(Event.Kind.VIEW, user=user, product=product)
        crm_services.note_add(customer=user, author=helper, body=f"Called about order {i}")
        crm_services.task_add(
            customer=user,
            created_by=helper,
            title=f"Call back {i}",
            due_on=date.today() + timedelta(days=i),
            assignee=helper,
        )
    reviews.review_create(
        user=user,
        product=product,
        rating=5,
        title="Lovely",
        body="A lovely warm jacket, very happy with it.",
    )
    forum = ForumCategoryFactory()
    forums.topic_create(
        user=user,
        category=forum,
        title="Jackets for rain",
        body="I am so happy with my new jacket, it is great.",
    )
    engagement.like_add(user=user, obj=product)
    link = engagement.share_record(obj=product, channel="whatsapp", user=user)
    # a visitor arrives through the share, signs up, and buys: the share brought all three
    visit = RequestFactory().get("/")
    visit.user, visit.session = AnonymousUser(), {}
    engagement.referral_visit(code=link.code, request=visit)
    friend = UserFactory(email="friend@example.test")
    friend_order = buy(friend, product)
    assert engagement.attribute_order(order=friend_order, request=visit) is not None
    engagement.profile_get_or_create(user=friend)
    engagement.profile_update(user=friend, is_public=True)
    engagement.profile_get_or_create(user=user)
    engagement.profile_update(user=user, is_public=True)
    engagement.follow(follower=friend, handle=user.public_profile.handle)
    tag = crm_services.tag_get_or_create(name="VIP")
    crm_services.tag_add(customer=user, tag=tag, added_by=helper)
    profile_build_incremental()  # what Celery beat does every minute
    assert ContentType.objects.get_for_model(product)  # the product is likeable
    return user
