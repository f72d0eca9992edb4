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
        (
            "Perfect",
            "Fits perfectly and the colour is lovely. My friends keep asking where I got it.",
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
        (
            "Mixed feelings",
            "Nice design but the sizing runs small. Customer service was helpful though.",
        ),
    ],
    2: [
        ("Disappointed", "The material feels cheap and it started to wear after two weeks."),
        ("Not as pictured", "The colour is much duller than in the photos. I expected better."),
    ],
    1: [
        (
            "Broke quickly",
            "Terrible quality: it broke after a few days and the return was a hassle.",
        ),
        ("Would not buy again", "Uncomfortable and poorly made. Really disappointing, avoid."),
    ],
}
INTENT_LINES = {
    "cameras": "I broke my camera on holiday, so I needed a new one fast. ",
    "audio": "I lost my headphones on the train and was looking for new headphones. ",
    "shoes": "I need a new pair of running shoes every year and these are my pick. ",
}
QUESTIONS = [
    ("Is it true to size?", "I found it true to size, maybe order up if you are in between."),
    (
        "Does it come with a warranty?",
        "Yes: two years on every product, and free returns within 30 days.",
    ),
    ("How does it hold up after washing?", "Mine still looks new after many washes at 30°."),
]


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
    existing = set(Review.objects.values_list("product_id", "author_id"))
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
            for author in dict.fromkeys(authors):
                rating = max(1, min(5, quality + rnd.choice([-2, -1, 0, 0, 0, 1])))
                title, body = rnd.choice(TEXTS[rating])
                age = timedelta(days=rnd.randint(1, 200), minutes=rnd.randint(0, 999))
                if (product.pk, author.pk) in existing:
                    continue
                body = INTENT_LINES.get(product.category.slug, "") * (rating >= 4) + body
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
                text, answer = rnd.choice(QUESTIONS)
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
