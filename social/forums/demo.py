"""Demo forum categories, topics and posts, written through the services. Idempotent."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from config.celery import eager_tasks
from shop.models import Product

from .models import ForumCategory, Post, Topic
from .services import post_create, subscription_set, topic_create

CATEGORIES = [
    ("Product talk", "product-talk", "What you bought, what you think, what to buy next."),
    ("Style & outfits", "style", "Put outfits together, ask for sizing and colour advice."),
    ("Gear & gadgets", "gear", "Cameras, audio and everything with a battery."),
    ("Help & advice", "help", "Questions about orders, delivery and care."),
]
# (forum category, products to mention: a shop category or None for any, title, first post,
# replies). "{product}" becomes a product mention, "{u1}" the topic author's @username.
TOPICS = [
    (
        "gear",
        "Cameras",  # products to mention
        "I broke my camera: what should I buy next?",
        "I broke my camera at a wedding last weekend (dropped it on stone). "
        "Looking for a new camera under €500, any tips?",
        [
            "Ouch! I had the same problem last year. This one has been great for me: {product}",
            "Agree with @{u1}, and get a strap this time :)",
            "Thanks all, ordered it. Will report back!",
        ],
    ),
    (
        "style",
        "Jackets",  # products to mention
        "Rain jacket that actually keeps you dry?",
        "Need a new rain jacket for cycling to work. Which one did you get and does it breathe?",
        [
            "Mine is {product}. Dry after an hour in heavy rain, and it packs small.",
            "> Dry after an hour in heavy rain\n\nSame experience here, love it.",
            "Sizing runs a little small, order one size up.",
        ],
    ),
    (
        "product-talk",
        None,  # products to mention
        "Your favourite purchase this month",
        "Show us the best thing you bought recently! Mine: {product}. Super comfortable.",
        [
            "Great pick. I went for {product} and I am very happy with it.",
            "Honestly disappointed with my last order: the colour was off. "
            "Support sorted it quickly though.",
            "@{u1} how is the quality after a few weeks?",
            "Still perfect, no complaints at all.",
        ],
    ),
    (
        "help",
        None,  # products to mention
        "How long does standard delivery take?",
        "Ordered on Monday with standard shipping. When should I expect it?",
        ["Usually 2 to 4 working days. Mine came on Thursday.", "Same here, 3 days."],
    ),
    (
        "gear",
        "Audio",  # products to mention
        "Lost my headphones on the train",
        "Lost my headphones on the train this morning and I am looking for new headphones "
        "with good noise cancelling. Ideas?",
        [
            "These are excellent for commuting: {product}",
            "I would add a case, they are easy to lose!",
        ],
    ),
    (
        "style",
        "Tops",  # products to mention
        "Gift for my partner: sweater or scarf?",
        "Looking for a gift for my partner who is always cold. Budget around €80.",
        ["A merino sweater is always a winner: {product}", "Scarf + gloves combo works too."],
    ),
]
NO_LIMITS = {"new": (10**6, 1), "member": (10**6, 1)}


def seed(*, stdout) -> None:
    User = get_user_model()
    shoppers = list(
        User.objects.filter(email__endswith="@agora.test", is_staff=False).order_by("pk")
    )
    if len(shoppers) < 4:
        stdout.write("Forums: not enough demo shoppers, nothing to do.")
        return
    categories = {}
    for position, (name, slug, description) in enumerate(CATEGORIES):
        categories[slug], _ = ForumCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )
    rnd = random.Random(5)
    visible = Product.objects.visible().order_by("pk")
    everything = list(visible.values_list("slug", flat=True))
    created = 0
    now = timezone.now()
    quiet = override_settings(
        AGORA_FORUMS_RATE_LIMITS=NO_LIMITS,
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",  # no demo emails
    )
    with eager_tasks(), quiet:
        for index, (slug, shop_category, title, first, replies) in enumerate(TOPICS):
            if Topic.objects.filter(title=title).exists():
                continue
            products = everything
            if shop_category:  # a camera topic mentions cameras, a jacket topic jackets
                fitting = visible.filter(category__name=shop_category)
                products = list(fitting.values_list("slug", flat=True)) or everything
            people = rnd.sample(shoppers, 4)
            subscription_set(user=people[3], category=categories[slug], on=True)
            fill = {"product": f"[[product:{rnd.choice(products)}]]", "u1": people[0].username}
            topic = topic_create(
                user=people[0], category=categories[slug], title=title, body=first.format(**fill)
            )
            for n, text in enumerate(replies):
                fill["product"] = f"[[product:{rnd.choice(products)}]]"
                post_create(user=people[1 + n % 3], topic_id=topic.pk, body=text.format(**fill))
            start = now - timedelta(days=2 + index * 3, hours=rnd.randint(0, 12))
            last = start
            for post in Post.objects.filter(topic=topic).order_by("number"):
                last = last + timedelta(hours=rnd.randint(1, 5), minutes=rnd.randint(0, 59))
                Post.objects.filter(pk=post.pk).update(created_at=last)
            Topic.objects.filter(pk=topic.pk).update(created_at=start, last_post_at=last)
            created += 1
        welcome = "Welcome to the Agora forums"
        if not Topic.objects.filter(title=welcome).exists():
            staff = User.objects.filter(is_staff=True).order_by("pk").first()
            if staff:
                topic = topic_create(
                    user=staff,
                    category=categories["help"],
                    title=welcome,
                    body="Be kind, stay on topic, and mention products with their link or "
                    "`[[product:slug]]` so others can see them. Reports go to our moderators.",
                )
                Topic.objects.filter(pk=topic.pk).update(is_pinned=True)
                created += 1
    stdout.write(f"Forums: {created} new topics in {len(categories)} categories.")
