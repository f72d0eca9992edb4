"""Catalogue, cart and orders.

Invariants kept by the database, not only by code:
- a variant's stock is never negative (CheckConstraint), so a race can fail but never oversell;
- one cart per signed-in shopper and one per anonymous session (unique constraints);
- one cart line per variant in a cart.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

COUNTRIES = [
    ("DE", "Germany"),
    ("AT", "Austria"),
    ("FR", "France"),
    ("NL", "Netherlands"),
    ("BE", "Belgium"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("IE", "Ireland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]


class Category(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("shop:category", kwargs={"slug": self.slug})


class Brand(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProductQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(is_active=True)

    def with_stock_flag(self):
        in_stock = Variant.objects.filter(product=OuterRef("pk"), stock__gt=0)
        return self.annotate(in_stock=Exists(in_stock))

    def in_stock(self):
        return self.filter(Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0)))

    def for_cards(self):
        """What a product card shows, in a constant number of queries."""
        first_images = ProductImage.objects.order_by("position", "pk")
        return (
            self.select_related("brand", "category")
            .with_stock_flag()
            .prefetch_related(models.Prefetch("images", queryset=first_images))
        )


class Product(models.Model):
    class PriceBand(models.TextChoices):
        BUDGET = "budget", "Under €25"
        MID = "mid", "€25–€75"
        PREMIUM = "premium", "€75–€200"
        LUXURY = "luxury", "Over €200"

    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=180, unique=True)
    category = models.ForeignKey(Category, related_name="products", on_delete=models.PROTECT)
    brand = models.ForeignKey(Brand, related_name="products", on_delete=models.PROTECT)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    colour = models.CharField(max_length=40, blank=True, help_text="Main colour.")
    style = models.CharField(max_length=60, blank=True, help_text="Style or shape.")
    function = models.CharField(max_length=60, blank=True, help_text="Function or use.")
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [
            GinIndex(fields=["search_vector"], name="shop_product_search_gin"),
            models.Index(fields=["category", "price"]),
            models.Index(fields=["brand"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("shop:product", kwargs={"slug": self.slug})

    @property
    def price_band(self) -> str:
        return price_band_for(self.price)

    @property
    def primary_image(self):
        images = list(self.images.all())  # uses the prefetch cache when present
        return images[0] if images else None


def price_band_for(price: Decimal) -> str:
    if price < 25:
        return Product.PriceBand.BUDGET
    if price < 75:
        return Product.PriceBand.MID
    if price < 200:
        return Product.PriceBand.PREMIUM
    return Product.PriceBand.LUXURY


class ProductImage(models.Model):
    product = models.ForeignKey(Product, related_name="images", on_delete=models.CASCADE)
    image = models.ImageField(upload_to="products/")
    alt = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.alt or self.image.name


class Variant(models.Model):
    """A buyable unit of a product: a size and/or colour with its own stock."""

    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    sku = models.CharField(max_length=64, unique=True)
    size = models.CharField(max_length=20, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    stock = models.IntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "stock"])]

    def __str__(self):
        return f"{self.product.name} ({self.label})" if self.label else self.product.name

    @property
    def label(self) -> str:
        return " / ".join(part for part in (self.colour, self.size) if part)


class Cart(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    coupon_codes = models.JSONField(
        default=list, blank=True, help_text="Discount codes entered in the cart, in order."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False),
                name="cart_has_owner",
            )
        ]

    def __str__(self):
        return f"Cart {self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, related_name="items", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, related_name="+", on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="one_line_per_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant_id}"


class ShippingMethod(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    free_over = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Orders at or above this subtotal ship free.",
    )
    delivery_days = models.CharField(max_length=20, default="2–4")
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "price"]

    def __str__(self):
        return self.name

    def cost_for(self, subtotal: Decimal) -> Decimal:
        if self.free_over is not None and subtotal >= self.free_over:
            return Decimal("0.00")
        return self.price


class Order(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    number = models.CharField(max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.SET_NULL,
    )
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PAID)
    full_name = models.CharField(max_length=120)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="DE", choices=COUNTRIES)
    phone = models.CharField(max_length=40, blank=True)
    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_cost = models.DecimalField(max_digits=8, decimal_places=2)
    discount_total = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="Sum of the order's discount lines (goods and shipping).",
    )
    total = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    payment_gateway = models.CharField(max_length=40)
    payment_reference = models.CharField(max_length=80)
    card_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The confirmation email is owed until sent: the row, not the broker, remembers it, so a
    # Redis outage or an SMTP server that is down loses no confirmation (issue 16).
    confirmation_due = models.BooleanField(default=False, editable=False)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last status whose email went out ("" none): a status is reached at most once
    # (ALLOWED_TRANSITIONS has no cycle), so a re-run status email task sends nothing twice.
    status_emailed = models.CharField(max_length=20, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(
                fields=["created_at"],
                condition=Q(confirmation_due=True),
                name="order_confirmation_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(discount_total__gte=0),
                name="order_total_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(card_last4__regex=r"^[0-9]{0,4}$"), name="order_card_last4_only"
            ),
        ]

    def __str__(self):
        return f"Order {self.number}"

    def get_absolute_url(self):
        return reverse("shop:order_detail", kwargs={"number": self.number})


class OrderLine(models.Model):  # noqa: DJ008 (shown inline in its order)
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, null=True, related_name="+", on_delete=models.SET_NULL)
    variant = models.ForeignKey(Variant, null=True, related_name="+", on_delete=models.SET_NULL)
    product_name = models.CharField(max_length=160)
    variant_label = models.CharField(max_length=80, blank=True)
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["pk"]


class OrderDiscount(models.Model):
    """A discount on an order, its own line (never a changed unit price): a coupon's code, the
    words shown to the shopper and the amount taken off (positive, in cents: a code that took
    nothing off leaves no line)."""

    order = models.ForeignKey(Order, related_name="discounts", on_delete=models.CASCADE)
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=160)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    on_shipping = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Positive: a code that took nothing off is not a line (``order_place``).
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_discount_positive")
        ]

    def __str__(self):
        from .money import money

        return f"{self.code}: −{money(self.amount)}"


class OrderEvent(models.Model):
    """Append-only history of an order: placed, status changes, notes (the CRM timeline)."""

    order = models.ForeignKey(Order, related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.kind}: {self.message}"
