"""factory_boy factories shared by every app's tests. Prefer a parameter over a new factory."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from shop.models import Brand, Category, Product, ProductImage, ShippingMethod, Variant

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    password = factory.django.Password(PASSWORD)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda c: slugify(c.name))


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda b: slugify(b.name))


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with one variant holding ``stock`` units (pass ``variants=[]`` for none)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda p: slugify(p.name))
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    price = Decimal("20.00")
    colour = "Blue"
    style = "Classic"
    function = "Everyday"
    description = "A fine product."

    @factory.post_generation
    def variants(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            stock = getattr(self, "_stock", 10)
            Variant.objects.create(
                product=self, sku=f"SKU-{self.pk}", colour=self.colour, stock=stock
            )
        else:
            for n, spec in enumerate(extracted):
                Variant.objects.create(product=self, sku=f"SKU-{self.pk}-{n}", **spec)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        stock = kwargs.pop("stock", 10)
        obj = super()._create(model_class, *args, **kwargs)
        obj._stock = stock
        return obj


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.django.ImageField(width=40, height=40, color="blue")
    alt = "A picture"


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        django_get_or_create = ["code"]

    code = "standard"
    name = "Standard"
    price = Decimal("4.90")
    free_over = Decimal("60.00")


def checkout_post(client, data: dict, **extra):
    """Post the checkout form as a browser does: with the quote token that the page just shown
    carries in its hidden ``quote`` field (the price the shopper saw is the price charged)."""
    import re

    from django.urls import reverse

    page = client.get(reverse("shop:checkout")).content.decode()
    found = re.search(r'<input type="hidden" name="quote" value="([^"]*)"', page)
    token = found.group(1) if found else ""
    return client.post(reverse("shop:checkout"), {**data, "quote": token}, **extra)
