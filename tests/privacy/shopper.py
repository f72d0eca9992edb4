"""A shopper who has done everything the store offers, set up through its services and pages,
and a scan of every text column of the database for what identifies them."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from PIL import Image

from personalization import events
from personalization import services as pz_services
from shop import cart as carts
from shop.checkout import Address, order_place
from shop.models import Cart
from shop.payments import Card
from social import consent
from social import services as social_services
from social.engagement import services as engagement
from social.forums import services as forums
from social.reviews import services as reviews
from tests.community_factories import ForumCategoryFactory, OldUserFactory
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory
from tests.social.friendbook import Member, local_path

from .conftest import QUENTIN

CARD = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")
PHONE = "+49 151 99887766"
LINE1 = "17 Quillfeather Lane"
LINE2 = "Flat Wobbleton"
CITY = "Zwickelbach-Ost"
POSTCODE = "ZX-99887"


@dataclass
class Everything:
    user: object
    other: object
    staff: object
    product: object
    order: object
    needles: list[str]


def png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def sign_in_with_friendbook(client, fb, email: str, *categories, next_url: str = ""):
    """Through the permission screen and Friendbook, as the shopper's browser would."""
    url = reverse("social:permissions", args=["friendbook"])
    data = {c: "on" for c in categories} | {"continue": "1"}
    if next_url:
        data["next"] = next_url
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:300]
    back = Member(fb, email).authorize(response["Location"])
    return client.get(local_path(back))


def shopper_who_did_everything(client, fb, *, name_in_content: bool) -> Everything:
    """Quentin signs in with Friendbook sharing every category, searches, browses, buys, keeps
    a cart, likes, shares, follows and is followed, reviews with a photo, asks and answers,
    starts a topic, posts, mentions, reports, votes, removes an interest, gets a ban from a
    moderator and a change in the admin, and downloads his data. With ``name_in_content`` his
    own texts mention his name (they must go when removed)."""
    User = get_user_model()
    response = sign_in_with_friendbook(client, fb, QUENTIN["email"], *consent.OPTIONAL)
    assert response.status_code == 302, response.content[:300]
    user = User.objects.get(email=QUENTIN["email"])
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not user.has_usable_password()  # a social-only account
    assert user.first_name == "Quentin"

    other = OldUserFactory(username="olga-other", first_name="Olga", email="olga@example.test")
    staff = UserFactory(username="stafferin", is_staff=True, is_superuser=True)
    product = ProductFactory(name="Brass telescope", price="80.00", stock=50)
    second = ProductFactory(name="Bird book", price="12.00", stock=50)
    mention = "Quentin Zabrowski here: " if name_in_content else ""
    user.date_joined = other.date_joined  # past the new-account write limits
    user.save(update_fields=["date_joined"])

    # Browsing, searching, a cart, an order with an address and a phone number.
    client.get(reverse("shop:product", args=[product.slug]))
    client.get(reverse("shop:product_list"), {"q": "Zabrowski telescope"})
    cart = Cart.objects.create(user=user)
    carts.cart_add(cart=cart, variant_id=product.variants.get().pk, quantity=1)
    order = order_place(
        cart=cart,
        user=user,
        email=user.email,
        address=Address(
            full_name="Quentin Zabrowski",
            line1=LINE1,
            line2=LINE2,
            city=CITY,
            postcode=POSTCODE,
            country="DE",
            phone=PHONE,
        ),
        shipping_method=ShippingMethodFactory(),
        card=CARD,
    )
    carts.cart_add(cart=cart, variant_id=second.variants.get().pk, quantity=2)

    # Likes, shares, a visit through someone else's link, follows both ways, a public profile.
    engagement.like_add(user=user, obj=product)
    link = engagement.share_record(obj=product, channel="x", user=user)
    other_link = engagement.share_record(obj=second, channel="copy", user=other)
    engagement.profile_update(
        user=user, is_public=True, likes_public=True, display_name="Quentin Z.", bio="Zabrowski"
    )
    engagement.profile_update(user=other, is_public=True, display_name="Olga")
    engagement.follow(follower=user, handle=engagement.profile_get_or_create(user=other).handle)
    engagement.follow(follower=other, handle=engagement.profile_get_or_create(user=user).handle)
    client.get(reverse("engagement:referral", args=[other_link.code]))

    # Reviews (with a photo), helpful votes, reports, questions and answers.
    their_review = reviews.review_create(
        user=other, product=second, rating=5, title="Lovely book", body="Clear pictures of birds."
    )
    review = reviews.review_create(
        user=user,
        product=product,
        rating=4,
        title=f"{mention}Sharp optics",
        body=f"{mention}I see the rings of Saturn from my balcony.",
        photos=[png("quentin-zabrowski.png" if name_in_content else "balcony.png")],
    )
    reviews.review_vote_helpful(user=user, review_id=their_review.pk)
    reviews.review_report(user=user, review_id=their_review.pk, reason="Looks copied")
    question = reviews.question_ask(user=other, product=product, text="Does it come with a tripod?")
    reviews.question_answer(user=user, question_id=question.pk, text=f"{mention}Yes, a small one.")
    reviews.question_ask(user=user, product=second, text=f"{mention}Is there an index of birds?")

    # Forums: a topic, replies both ways, a mention, a subscription, a report, a ban.
    forum = ForumCategoryFactory()
    topic = forums.topic_create(
        user=user, category=forum, title=f"{mention}First light", body=f"{mention}Clear skies!"
    )
    reply = forums.post_create(user=other, topic_id=topic.pk, body="Congratulations!")
    forums.post_create(user=user, topic_id=topic.pk, body=f"Thanks @{other.username}!")
    forums.subscription_set(user=user, category=forum, on=True)
    forums.post_report(user=user, post_id=reply.pk, reason="Off topic")
    their_topic = forums.topic_create(
        user=other, category=forum, title="Owls at dusk", body="Who saw owls?"
    )
    forums.post_create(user=user, topic_id=their_topic.pk, body=f"{mention}I did, twice.")
    forums.user_ban(actor=staff, user=user, reason="Cooling off after a heated thread", days=1)

    # Consent changes, personalization choices, a profile build.
    social_services.consent_revoke(user=user, category=consent.RELATIONSHIP)
    events.record("view", user=user, product=second, colour="Blue")
    pz_services.profile_build_full()
    pz_services.interest_remove(user=user, dimension="colour", value="blue")

    # Staff touched the account in the admin; the shopper downloaded their data.
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[user], action_flag=CHANGE, change_message="Changed email."
    )
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task is queued after commit
        response = client.post(reverse("privacy:export_request"))
    assert response.status_code == 302

    user.refresh_from_db()
    assert order.pk and link.pk and review.pk
    needles = [
        user.first_name,
        QUENTIN["last_name"],
        user.email,
        user.username,
        PHONE,
        LINE1,
        LINE2,
        CITY,
        POSTCODE,
    ]
    return Everything(
        user=user, other=other, staff=staff, product=product, order=order, needles=needles
    )


TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def scan_database(needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a text, varchar or JSON column of any table in the
    public schema contains ``needle`` (case-insensitive)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s) "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE') "
            "ORDER BY table_name, column_name",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        hits = []
        patterns = [f"%{needle}%" for needle in needles]
        for table, column in columns:
            cursor.execute(
                f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text ILIKE ANY(%s)',
                [patterns],
            )
            for (value,) in cursor.fetchall():
                for needle in needles:
                    if needle.lower() in value.lower():
                        hits.append((table, column, needle))
    return hits
