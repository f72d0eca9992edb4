"""Demo reviews and questions on many products, written through the services. Idempotent."""

import random
from contextlib import suppress
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.test import override_settings
from django.utils import timezone

from config.celery import eager_tasks
from shop.models import OrderLine, Product

from .exceptions import ReviewError
from .models import Question, Review
from .services import (
    question_answer,
    question_ask,
    review_create,
    review_moderate,
    review_vote_helpful,
)

# Texts any product can carry; BY_CATEGORY adds texts that only fit one category (fit and
# sizing only on clothes and shoes, sound only on audio ...), so no kettle review talks sizing.
TEXTS = {
    5: [
        (
            "Love it",
            "Exactly as described and beautifully made. I use it every day and it still looks new.",
        ),
        (
            "Best purchase this year",
            "Great quality for the price, fast delivery and it feels premium. Highly recommended!",
        ),
    ],
    4: [
        (
            "Very good",
            "Solid and well finished. Only wish it came in more colours, otherwise great.",
        ),
        ("Happy with it", "Good value. Took a day to get used to it but now I really like it."),
    ],
    3: [
        ("It's okay", "Does the job. Nothing special, the finish is a bit plain for the price."),
    ],
    2: [
        ("Not as pictured", "The colour is much duller than in the photos. I expected better."),
    ],
    1: [
        ("Would not buy again", "Poorly made and not worth the money. Really disappointing."),
    ],
}
_CLOTHES = {
    5: [("Perfect fit", "Fits perfectly and the fabric is soft. Friends keep asking about it.")],
    3: [("Runs small", "Nice fabric, but the sizing runs small: order one size up.")],
    2: [("Shrank in the wash", "Lost almost a size after one wash at 30°. Disappointing.")],
}
BY_CATEGORY = {
    "tops": _CLOTHES,
    "jackets": {
        **_CLOTHES,
        4: [("Kept me dry", "A week of rain and I stayed dry underneath. Sleeves a touch short.")],
        1: [("Leaks at the seams", "Water came through the shoulder seams in the first shower.")],
    },
    "shoes": {
        5: [
            ("Comfortable from day one", "No break-in needed: 15 km the first weekend, no blister.")
        ],
        3: [("Narrow fit", "Good grip, but they run narrow. Go half a size up for wide feet.")],
        1: [("Sole came loose", "The sole started to come away from the upper after a month.")],
    },
    "bags-accessories": {
        5: [
            (
                "Holds everything",
                "Laptop, lunch and a jumper go in easily; the straps don't dig in.",
            )
        ],
        3: [("Stiff zip", "Roomy and well made, but the main zip is stiff and catches.")],
        2: [("Strap frayed", "The strap started to fray where it meets the bag after a month.")],
    },
    "cameras": {
        5: [("Sharp pictures", "Sharp photos even in low light, and the battery lasts all day.")],
        3: [("Good, menus are fiddly", "Lovely results once set up, but the menus are fiddly.")],
        2: [("Battery drains fast", "Barely half a day of shooting before the battery is empty.")],
    },
    "audio": {
        5: [("Great sound", "Clear sound, deep bass, and the commute is finally quiet.")],
        3: [("Good sound, weak mic", "Music sounds great, but callers say I sound far away.")],
        1: [("Keeps disconnecting", "The Bluetooth connection drops every few minutes.")],
    },
    "home-kitchen": {
        5: [("A joy in the kitchen", "Well made and easy to clean; it is what I reach for first.")],
        3: [("Needs care", "Does the job, but it must be dried by hand straight away.")],
        2: [("Chipped", "Chipped in the first week of normal use.")],
    },
    "sports-outdoors": {
        5: [("Great on the trail", "Took it on a three-day hike: light, tough and packs small.")],
        3: [("Heavier than expected", "Works well, but heavier than the listing suggests.")],
        2: [("Cracked", "A hairline crack appeared after the first cold night out.")],
    },
    "beauty": {
        5: [("My skin loves it", "Absorbs quickly, no greasy feel, and a little goes a long way.")],
        3: [("Nice, strong scent", "Works well, but the scent is stronger than I would like.")],
        2: [
            ("Not for sensitive skin", "It made my skin red and itchy; I stopped after a few days.")
        ],
    },
    "books-stationery": {
        5: [("Lovely paper", "Smooth paper that takes fountain-pen ink without bleeding through.")],
        3: [("Binding is weak", "Nice to write in, but the binding loosened within weeks.")],
    },
    "toys-games": {
        5: [("Family favourite", "We play it every weekend; the kids ask for it after dinner.")],
        3: [("Small pieces", "Fun, but some pieces are small: keep it away from toddlers.")],
        2: [("Pieces missing", "Two pieces were missing from the box.")],
    },
}
# A replacement intent (text signals) only where the product is the thing replaced.
INTENT_LINES = [
    ("camera", "I broke my camera on holiday, so I needed a new one fast. "),
    ("headphones", "I lost my headphones on the train and was looking for new headphones. "),
    ("running shoe", "I need a new pair of running shoes every year and these are my pick. "),
]
WARRANTY = (
    "Does it come with a warranty?",
    "Yes: two years on every product, and free returns within 30 days.",
)
QUESTIONS = {
    "tops": [
        ("Is it true to size?", "I found it true to size, maybe order up if you are in between."),
        ("How does it hold up after washing?", "Mine still looks new after many washes at 30°."),
    ],
    "shoes": [
        ("Are they true to size?", "True to size for me; wide feet may want half a size up.")
    ],
    "cameras": [("Does it come with a charger?", "Yes, a USB-C cable and a wall charger.")],
    "audio": [("Does it work with two phones?", "Yes, it pairs with two devices at once.")],
    "home-kitchen": [("Is it dishwasher safe?", "The label says hand wash only; I follow that.")],
    "beauty": [("Is it tested on animals?", "No, and the ingredients are all plant-based.")],
}


def reviews_texts(category_slug: str, rating: int) -> list[tuple[str, str]]:
    """The (title, body) pairs a demo review of ``rating`` stars may use in that category."""
    return TEXTS[rating] + BY_CATEGORY.get(category_slug, {}).get(rating, [])


def review_text(rnd, category_slug: str, rating: int, *, used: set) -> tuple | None:
    """(rating, title, body) for one more demo review of a product whose reviews already carry
    the titles in ``used`` (updated): a text of ``rating`` stars not used yet, else of the
    nearest rating with one left; None when every fitting text is taken. So no product shows
    the same review twice, however many shoppers review it."""
    for stars in sorted(range(1, 6), key=lambda r: (abs(r - rating), -r)):
        fresh = [t for t in reviews_texts(category_slug, stars) if t[0] not in used]
        if fresh:
            title, body = rnd.choice(fresh)
            used.add(title)
            return stars, title, body
    return None


def intent_line(product_name: str) -> str:
    """The replacement-intent sentence that fits the product ("" when none fits)."""
    name = product_name.lower()
    for word, line in INTENT_LINES:
        if word in name and "strap" not in name:
            return line
    return ""


def seed(*, stdout) -> None:
    User = get_user_model()
    shoppers = list(
        User.objects.filter(email__endswith="@agora.test", is_staff=False).order_by("pk")
    )
    staff = User.objects.filter(is_staff=True).order_by("pk").first()
    if not shoppers:
        stdout.write("Reviews: no demo shoppers, nothing to do.")
        return
    products = list(Product.objects.visible().select_related("category").order_by("pk"))
    existing = set()
    titles = {}  # product id -> the titles its reviews carry (a re-run repeats none either)
    for product_id, author_id, title in Review.objects.values_list(
        "product_id", "author_id", "title"
    ):
        existing.add((product_id, author_id))
        titles.setdefault(product_id, set()).add(title)
    bought = {}
    for product_id, user_id in OrderLine.objects.filter(order__user__isnull=False).values_list(
        "product_id", "order__user_id"
    ):
        bought.setdefault(product_id, set()).add(user_id)
    by_id = {u.pk: u for u in shoppers}
    created = 0
    now = timezone.now()
    no_limits = override_settings(
        AGORA_REVIEWS_RATE_LIMITS={"new": (10**6, 1), "member": (10**6, 1)}
    )
    with eager_tasks(), no_limits:
        for product in products:
            rnd = random.Random(product.pk * 7919)  # per product: re-runs draw the same
            if rnd.random() < 0.25:
                continue
            authors = [by_id[pk] for pk in sorted(bought.get(product.pk, ())) if pk in by_id]
            authors += rnd.sample(shoppers, rnd.randint(1, 7))
            quality = rnd.choice([5, 5, 4, 4, 4, 3, 2])
            reviews = []
            used = set(titles.get(product.pk, ()))  # the titles its reviews already have
            for author in dict.fromkeys(authors):
                rating = max(1, min(5, quality + rnd.choice([-2, -1, 0, 0, 0, 1])))
                drawn = review_text(rnd, product.category.slug, rating, used=used)
                age = timedelta(days=rnd.randint(1, 200), minutes=rnd.randint(0, 999))
                if drawn is None or (product.pk, author.pk) in existing:
                    continue
                rating, title, body = drawn
                body = intent_line(product.name) * (rating >= 4) + body
                try:
                    review = review_create(
                        user=author, product=product, rating=rating, title=title, body=body
                    )
                except ReviewError:
                    continue
                Review.objects.filter(pk=review.pk).update(created_at=now - age)
                reviews.append(review)
                created += 1
            for review in reviews:
                for voter in rnd.sample(shoppers, rnd.randint(0, 4)):
                    with suppress(ReviewError):
                        review_vote_helpful(user=voter, review_id=review.pk)
            if rnd.random() < 0.15 and not Question.objects.filter(product=product).exists():
                text, answer = rnd.choice(QUESTIONS.get(product.category.slug, []) + [WARRANTY])
                question = question_ask(user=rnd.choice(shoppers), product=product, text=text)
                question_answer(
                    user=staff or rnd.choice(shoppers), question_id=question.pk, text=answer
                )
        # Staff have worked through the queue, except the newest few.
        queue = list(
            Review.objects.filter(status=Review.Status.PENDING)
            .order_by("-pk")
            .values_list("pk", flat=True)[20:]
        )
        for pk in queue if staff else []:
            review_moderate(review_id=pk, status=Review.Status.APPROVED, actor=staff)
    pending = Review.objects.filter(~Q(status=Review.Status.APPROVED)).count()
    stdout.write(f"Reviews: {created} new reviews ({pending} waiting for moderation).")
