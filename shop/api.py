"""Catalogue, cart, checkout and order endpoints (``/api/v1/``): the store's services and
selectors behind DRF, with the same rules as the pages."""

from django.db.models import Prefetch
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Public, Shopper, Staff
from personalization import events
from social.engagement import selectors as engagement_selectors
from social.reviews.selectors import rating_summary

from . import cart as carts
from .checkout import Address, order_place
from .exceptions import ProductUnavailable
from .filters import ProductFilter
from .forms import COUNTRIES
from .models import Order, OrderDiscount, OrderLine, Product, ProductImage, ShippingMethod, Variant
from .payments import Card, luhn_valid
from .selectors import category_tree, orders_for_user, product_for_page
from .services import order_set_status

# --- catalogue -------------------------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)


class VariantSerializer(serializers.ModelSerializer):
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = ["id", "sku", "colour", "size", "in_stock"]

    def get_in_stock(self, obj) -> bool:
        return obj.stock > 0


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImage
        fields = ["image", "alt"]


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField()


class SocialProofSerializer(serializers.Serializer):
    like_count = serializers.IntegerField(
        allow_null=True, help_text="Null below the store's minimum shown as a claim."
    )
    liked = serializers.BooleanField(help_text="Whether the caller likes it.")
    followed_likers = PersonSerializer(
        many=True, help_text="Up to two shoppers the caller follows who like it publicly."
    )
    followed_likers_total = serializers.IntegerField()


def social_proof(summary) -> dict:
    return {
        "like_count": summary.count if summary.show_count else None,
        "liked": summary.liked,
        "followed_likers": [{"name": p.name, "url": p.url} for p in summary.followed],
        "followed_likers_total": summary.followed_total,
    }


class ProductSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.name")
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    images = ImageSerializer(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)
    in_stock = serializers.SerializerMethodField()
    social_proof = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "url",
            "brand",
            "category",
            "price",
            "colour",
            "style",
            "function",
            "rating_avg",
            "rating_count",
            "in_stock",
            "images",
            "variants",
            "social_proof",
        ]

    def get_in_stock(self, obj) -> bool:
        flag = getattr(obj, "in_stock", None)
        if flag is not None:
            return bool(flag)
        return any(v.stock > 0 for v in obj.variants.all())

    @extend_schema_field(SocialProofSerializer)
    def get_social_proof(self, obj) -> dict:
        summaries = self.context.get("summaries", {})
        key = engagement_selectors.summary_key(obj)
        summary = summaries.get(key) or engagement_selectors.LikeSummary()
        return social_proof(summary)


class RatingBarSerializer(serializers.Serializer):
    stars = serializers.IntegerField()
    count = serializers.IntegerField()
    percent = serializers.IntegerField()


class RatingSummarySerializer(serializers.Serializer):
    average = serializers.FloatField()
    count = serializers.IntegerField()
    distribution = RatingBarSerializer(many=True)


class ProductDetailSerializer(ProductSerializer):
    ratings = serializers.SerializerMethodField()

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "description", "ratings"]

    @extend_schema_field(RatingSummarySerializer)
    def get_ratings(self, obj) -> dict:
        summary = rating_summary(obj)
        return {
            "average": summary.average,
            "count": summary.count,
            "distribution": [{"stars": s, "count": c, "percent": p} for s, c, p in summary.bars],
        }


class ProductList(generics.ListAPIView):
    """Visible products, with the store's filters (search, category, price, brand, colour,
    size, stock, sort), ratings and the caller's social proof (likes, followed likers)."""

    permission_classes = [Public]
    serializer_class = ProductSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    queryset = Product.objects.none()

    def get_queryset(self):
        return Product.objects.visible()

    def filter_queryset(self, queryset):
        filterset = ProductFilter(
            self.request.query_params, queryset=queryset, request=self.request
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return filterset.ordered(filterset.qs).for_cards().prefetch_related("variants")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        summaries = engagement_selectors.like_summaries(page, viewer=request.user)
        data = ProductSerializer(page, many=True, context={"summaries": summaries}).data
        return self.get_paginated_response(data)


class ProductDetail(APIView):
    permission_classes = [Public]

    @extend_schema(
        responses=ProductDetailSerializer,
        examples=[
            OpenApiExample(
                "A product",
                value={"id": 7, "name": "Linen shirt", "slug": "linen-shirt", "price": "49.00"},
                response_only=True,
            )
        ],
    )
    def get(self, request, slug):
        """One visible product with its variants, rating distribution and social proof."""
        product = product_for_page(slug=slug)
        if product is None:
            raise ProductUnavailable("That product does not exist or is no longer sold.")
        if request.user.is_authenticated:  # API callers without a session are not tracked
            events.record(events.Event.Kind.VIEW, user=request.user, product=product)
        summaries = engagement_selectors.like_summaries([product], viewer=request.user)
        return Response(ProductDetailSerializer(product, context={"summaries": summaries}).data)


class CategoryList(APIView):
    permission_classes = [Public]
    pagination_class = None

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        """Every category (a short list, not paginated); ``parent`` builds the tree."""
        nodes = category_tree().nodes.values()
        return Response(CategorySerializer(list(nodes), many=True).data)


class ShippingMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingMethod
        fields = ["id", "code", "name", "price", "free_over", "delivery_days"]


class ShippingMethodList(generics.ListAPIView):
    """Active shipping methods, for checkout."""

    permission_classes = [Public]
    serializer_class = ShippingMethodSerializer
    pagination_class = None
    queryset = ShippingMethod.objects.filter(is_active=True)
    filter_backends = []


# --- cart ------------------------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    variant = serializers.IntegerField(source="item.variant_id")
    product = serializers.CharField(source="item.variant.product.slug")
    name = serializers.CharField(source="item.variant.product.name")
    variant_label = serializers.CharField(source="item.variant.label")
    quantity = serializers.IntegerField(source="item.quantity")
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=10, decimal_places=2)
    problem = serializers.CharField(help_text="Empty when the line can be bought as it is.")


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=10, decimal_places=2)
    has_problems = serializers.BooleanField()


class CartAddSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=carts.MAX_QUANTITY, default=1)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=0, max_value=carts.MAX_QUANTITY, help_text="0 removes the line."
    )


def _cart_response(request, code=status.HTTP_200_OK) -> Response:
    summary = carts.cart_summary(carts.cart_get(request))
    return Response(CartSerializer(summary).data, status=code)


class CartView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=CartSerializer)
    def get(self, request):
        """The caller's cart with server-side prices and any line that cannot be bought."""
        return _cart_response(request)


class CartItems(APIView):
    permission_classes = [Shopper]

    @extend_schema(
        request=CartAddSerializer,
        responses={201: CartSerializer},
        examples=[
            OpenApiExample("Add two", value={"variant": 12, "quantity": 2}, request_only=True)
        ],
    )
    def post(self, request):
        """Add a variant; the cart's quantity of it may not exceed stock (409 out_of_stock)."""
        data = CartAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = carts.cart_get(request, create=True)
        carts.cart_add(
            cart=cart,
            variant_id=data.validated_data["variant"],
            quantity=data.validated_data["quantity"],
            request=request,
        )
        return _cart_response(request, status.HTTP_201_CREATED)


class CartItem(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=CartQuantitySerializer, responses=CartSerializer)
    def patch(self, request, item_id: int):
        """Set a line's quantity (0 removes it), checked against stock."""
        data = CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = carts.cart_get(request)
        if cart is None:
            raise ProductUnavailable("That item is not in your cart.")
        carts.cart_set_quantity(
            cart=cart, item_id=item_id, quantity=data.validated_data["quantity"]
        )
        return _cart_response(request)

    @extend_schema(responses=CartSerializer)
    def delete(self, request, item_id: int):
        """Remove a line from the cart."""
        cart = carts.cart_get(request)
        if cart is None:
            raise ProductUnavailable("That item is not in your cart.")
        carts.cart_remove(cart=cart, item_id=item_id)
        return _cart_response(request)


# --- checkout and orders --------------------------------------------------------------------


class CheckoutSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, help_text="Defaults to the account's email.")
    full_name = serializers.CharField(max_length=120)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20)
    country = serializers.ChoiceField(choices=COUNTRIES)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    shipping_method = serializers.SlugRelatedField(
        slug_field="code", queryset=ShippingMethod.objects.filter(is_active=True)
    )
    card_number = serializers.CharField(max_length=23)
    card_expiry_month = serializers.IntegerField(min_value=1, max_value=12)
    card_expiry_year = serializers.IntegerField(min_value=2000, max_value=2100)
    card_cvc = serializers.RegexField(r"^\d{3,4}$")

    def validate_card_number(self, value):
        number = "".join(value.split()).replace("-", "")
        if not luhn_valid(number):
            raise serializers.ValidationError("That card number is not valid.")
        return number

    def validate(self, attrs):
        from django.utils import timezone

        today = timezone.now().date()
        if (attrs["card_expiry_year"], attrs["card_expiry_month"]) < (today.year, today.month):
            raise serializers.ValidationError({"card_expiry_year": "This card has expired."})
        return attrs


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["product_name", "variant_label", "sku", "unit_price", "quantity", "line_total"]


class OrderDiscountSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderDiscount
        fields = ["code", "label", "amount", "on_shipping"]


class ShippingAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["full_name", "line1", "line2", "postcode", "city", "country", "phone"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    discounts = OrderDiscountSerializer(many=True, read_only=True)
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)
    shipping_method = serializers.CharField(source="shipping_method.code", read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "created_at",
            "subtotal",
            "shipping_cost",
            "discount_total",
            "total",
            "currency",
            "shipping_method",
            "shipping_address",
            "lines",
            "discounts",
        ]


class CheckoutView(APIView):
    permission_classes = [Shopper]

    @extend_schema(
        request=CheckoutSerializer,
        responses={201: OrderSerializer},
        examples=[
            OpenApiExample(
                "Pay by card",
                value={
                    "full_name": "Ana Novak",
                    "line1": "1 Market Street",
                    "city": "Berlin",
                    "postcode": "10115",
                    "country": "DE",
                    "shipping_method": "standard",
                    "card_number": "4242424242424242",
                    "card_expiry_month": 12,
                    "card_expiry_year": 2035,
                    "card_cvc": "123",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        """Turn the cart into a paid order (the page's checkout service). Errors: empty_cart,
        out_of_stock (409), product_unavailable (404), payment_declined (402)."""
        from social.engagement.services import attribute_order

        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        cart = carts.cart_get(request)
        if cart is None:
            from .exceptions import EmptyCart

            raise EmptyCart("Your cart is empty.")
        order = order_place(
            cart=cart,
            user=request.user,
            email=data.get("email") or request.user.email,
            address=Address(
                full_name=data["full_name"],
                line1=data["line1"],
                line2=data["line2"],
                city=data["city"],
                postcode=data["postcode"],
                country=data["country"],
                phone=data["phone"],
            ),
            shipping_method=data["shipping_method"],
            card=Card(
                number=data["card_number"],
                expiry_month=data["card_expiry_month"],
                expiry_year=data["card_expiry_year"],
                cvc=data["card_cvc"],
            ),
        )
        attribute_order(order=order, request=request._request)
        order = orders_for_user(request.user).select_related("shipping_method").get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


def _orders(user):
    return orders_for_user(user).select_related("shipping_method")


class OrderList(generics.ListAPIView):
    """The caller's own orders, newest first."""

    permission_classes = [Shopper]
    serializer_class = OrderSerializer
    ordering = ("-created_at", "-pk")
    filter_backends = []
    queryset = Order.objects.none()

    def get_queryset(self):
        return _orders(self.request.user)


class OrderDetail(generics.RetrieveAPIView):
    """One of the caller's orders (another shopper's is a 404, as on the pages)."""

    permission_classes = [Shopper]
    serializer_class = OrderSerializer
    lookup_field = "number"
    queryset = Order.objects.none()

    def get_queryset(self):
        return _orders(self.request.user)


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StaffOrderStatus(APIView):
    permission_classes = [Staff]
    staff_permissions = {"POST": ["shop.change_order"]}

    @extend_schema(request=OrderStatusSerializer, responses=OrderSerializer)
    def post(self, request, number: str):
        """Move an order along its lifecycle (the admin's rule; refunds go to the gateway).
        Errors: invalid_status_transition (409)."""
        serializer = OrderStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = Order.objects.filter(number=number).only("pk").first()
        if order is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such order.")
        order_set_status(
            order_id=order.pk,
            status=serializer.validated_data["status"],
            actor=request.user,
            note=serializer.validated_data["note"],
        )
        order = (
            Order.objects.select_related("shipping_method")
            .prefetch_related(Prefetch("lines"))
            .get(pk=order.pk)
        )
        return Response(OrderSerializer(order).data)


urlpatterns = [
    path("products/", ProductList.as_view(), name="api-products"),
    path("products/<slug:slug>/", ProductDetail.as_view(), name="api-product"),
    path("categories/", CategoryList.as_view(), name="api-categories"),
    path("shipping-methods/", ShippingMethodList.as_view(), name="api-shipping-methods"),
    path("cart/", CartView.as_view(), name="api-cart"),
    path("cart/items/", CartItems.as_view(), name="api-cart-items"),
    path("cart/items/<int:item_id>/", CartItem.as_view(), name="api-cart-item"),
    path("checkout/", CheckoutView.as_view(), name="api-checkout"),
    path("orders/", OrderList.as_view(), name="api-orders"),
    path("orders/<str:number>/", OrderDetail.as_view(), name="api-order"),
    path(
        "staff/orders/<str:number>/status/",
        StaffOrderStatus.as_view(),
        name="api-staff-order-status",
    ),
]
