"""Create the demo store. Idempotent: running it again adds nothing that is already there."""

import random
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import slugify

from personalization.models import Event
from shop.cart import cart_add
from shop.checkout import Address, order_place
from shop.demo.catalogue import TREE, demo_products
from shop.demo.images import product_image
from shop.models import (
    Brand,
    Cart,
    Category,
    Product,
    ProductImage,
    ShippingMethod,
    Variant,
    price_band_for,
)
from shop.payments import Card
from shop.services import product_reindex

DEMO_PASSWORD = "agora-demo"
STAFF_EMAIL, STAFF_PASSWORD = "staff@agora.test", "agora-staff"
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "Finn",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Luca",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Novak",
    "Schmidt",
    "Rossi",
    "Garcia",
    "Kowalski",
    "Dubois",
    "Jensen",
    "Silva",
    "Müller",
    "Okafor",
    "Tanaka",
    "Larsen",
    "Moreau",
]
TEST_CARD = Card(number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123")
SEARCHES = [
    "rain jacket",
    "headphones",
    "notebook",
    "camera",
    "running shoes",
    "mug",
    "backpack",
    "yoga mat",
    "gift",
    "linen",
]


def demo_name(n: int) -> tuple[str, str]:
    """The demo shopper number ``n``'s (first name, last name): no two of the first
    len(FIRST_NAMES) * len(LAST_NAMES) shoppers share a name (pairing ``n % 26`` with
    ``n % 13`` gave shopper 27 shopper 1's name, and their reviews looked like one shopper's
    duplicates)."""
    first = n % len(FIRST_NAMES)
    return FIRST_NAMES[first], LAST_NAMES[(first + n // len(FIRST_NAMES)) % len(LAST_NAMES)]


class Command(BaseCommand):
    help = "Create the demo store: catalogue with images, shoppers with orders and history, staff."

    def add_arguments(self, parser):
        parser.add_argument("--shoppers", type=int, default=50)
        parser.add_argument("--per-category", type=int, default=22)
        parser.add_argument("--no-images", action="store_true", help="Skip drawing images.")

    def handle(self, *args, shoppers, per_category, no_images, **options):
        Site.objects.update_or_create(
            pk=1, defaults={"domain": urlsplit(settings.SITE_URL).netloc, "name": "Agora"}
        )
        created = self.seed_catalogue(per_category=per_category, images=not no_images)
        self.seed_staff()
        orders = self.seed_shoppers(count=shoppers)
        for path in settings.AGORA_DEMO_SEEDERS:
            import_string(path)(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo store ready: {Product.objects.count()} products ({created} new), "
                f"{Category.objects.count()} categories, {orders} new orders. "
                f"Staff: {STAFF_EMAIL} / {STAFF_PASSWORD}; shoppers: shopper01@agora.test … / "
                f"{DEMO_PASSWORD}"
            )
        )

    @transaction.atomic
    def seed_catalogue(self, *, per_category: int, images: bool) -> int:
        categories = {}
        for position, (name, parent, *_rest) in enumerate(TREE):
            categories[name], _ = Category.objects.get_or_create(
                slug=slugify(name),
                defaults={"name": name, "parent": categories.get(parent), "position": position},
            )
        for method in [
            ("standard", "Standard", "4.90", "60.00", "2–4", 0),
            ("express", "Express", "9.90", None, "1–2", 1),
            ("pickup", "Pick up in store", "0.00", None, "same day", 2),
        ]:
            code, name, price, free_over, days, position = method
            ShippingMethod.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "price": price,
                    "free_over": free_over,
                    "delivery_days": days,
                    "position": position,
                },
            )
        brands = {}
        created = 0
        existing = set(Product.objects.values_list("slug", flat=True))
        now = timezone.now()
        for index, item in enumerate(demo_products(count_per_leaf=per_category)):
            if item.slug in existing:
                continue
            if item.brand not in brands:
                brands[item.brand], _ = Brand.objects.get_or_create(
                    slug=slugify(item.brand), defaults={"name": item.brand}
                )
            product = Product.objects.create(
                name=item.name,
                slug=item.slug,
                category=categories[item.category],
                brand=brands[item.brand],
                price=item.price,
                colour=item.colour,
                style=item.style,
                function=item.function,
                description=item.description,
                created_at=now - timedelta(days=index % 120, minutes=index),
            )
            Variant.objects.bulk_create(
                [
                    Variant(
                        product=product,
                        sku=f"AG-{product.pk:05d}-{n:02d}",
                        colour=colour,
                        size=size,
                        stock=stock,
                        position=n,
                    )
                    for n, (colour, size, stock) in enumerate(item.variants)
                ]
            )
            if images:
                for view in range(3):
                    picture = ProductImage(
                        product=product,
                        position=view,
                        alt=f"{item.name} in {item.colour.lower()}, view {view + 1}",
                    )
                    picture.image.save(
                        f"{item.slug}-{view + 1}.jpg",
                        ContentFile(
                            product_image(
                                kind=item.image_kind, colour=item.colour, seed=index, view=view
                            )
                        ),
                        save=True,
                    )
            created += 1
        product_reindex()
        return created

    def seed_staff(self):
        User = get_user_model()
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(
                username="staff",
                email=STAFF_EMAIL,
                password=STAFF_PASSWORD,
                first_name="Sam",
                last_name="Staff",
            )
            from allauth.account.models import EmailAddress

            user = User.objects.get(email=STAFF_EMAIL)
            EmailAddress.objects.get_or_create(
                user=user, email=STAFF_EMAIL, defaults={"verified": True, "primary": True}
            )

    def seed_shoppers(self, *, count: int) -> int:
        from allauth.account.models import EmailAddress

        User = get_user_model()
        rnd = random.Random(7)
        products = list(Product.objects.filter(variants__stock__gt=3).distinct().order_by("pk"))
        shipping = ShippingMethod.objects.get(code="standard")
        orders = 0
        now = timezone.now()
        password = make_password(DEMO_PASSWORD)  # hash once: hashing is slow on purpose
        for n in range(1, count + 1):
            email = f"shopper{n:02d}@agora.test"
            if User.objects.filter(email=email).exists():
                continue
            first, last = demo_name(n)
            user = User.objects.create(
                username=f"shopper{n:02d}",
                email=email,
                password=password,
                first_name=first,
                last_name=last,
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            favourite = rnd.choice(products).category_id
            liked = [p for p in products if p.category_id == favourite] or products
            events = []
            for _ in range(rnd.randint(10, 40)):
                product = rnd.choice(liked if rnd.random() < 0.7 else products)
                events.append(
                    Event(
                        kind=Event.Kind.VIEW,
                        user=user,
                        product=product,
                        occurred_at=now
                        - timedelta(days=rnd.randint(0, 90), minutes=rnd.randint(0, 1440)),
                        attributes={"price_band": price_band_for(product.price)},
                    )
                )
            for query in rnd.sample(SEARCHES, 2):
                events.append(
                    Event(
                        kind=Event.Kind.SEARCH,
                        user=user,
                        attributes={"query": query},
                        occurred_at=now - timedelta(days=rnd.randint(0, 90)),
                    )
                )
            Event.objects.bulk_create(events)
            cart, _ = Cart.objects.get_or_create(user=user)
            for _ in range(rnd.randint(1, 3)):
                for product in rnd.sample(liked, min(len(liked), rnd.randint(1, 2))):
                    variant = product.variants.filter(stock__gt=1).first()
                    if variant is None:
                        continue
                    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
                if not cart.items.exists():
                    continue
                order_place(
                    cart=cart,
                    user=user,
                    email=email,
                    address=Address(
                        full_name=f"{first} {last}",
                        line1=f"{rnd.randint(1, 99)} Market Street",
                        city=rnd.choice(["Berlin", "Hamburg", "Munich", "Cologne"]),
                        postcode=f"{rnd.randint(10000, 99999)}",
                        country="DE",
                    ),
                    shipping_method=shipping,
                    card=TEST_CARD,
                    notify=False,
                    placed_at=now - timedelta(days=rnd.randint(1, 120)),
                )
                orders += 1
        return orders
