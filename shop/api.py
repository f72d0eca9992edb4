"""Catalogue and order API (read-only). Writes go through the store's services."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, serializers, viewsets
from rest_framework.routers import DefaultRouter

from .filters import ProductFilter
from .models import Category, Order, OrderDiscount, OrderLine, Product, ProductImage, Variant
from .selectors import orders_for_user


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]


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


class ProductSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.name")
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    images = ImageSerializer(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

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
            "description",
            "images",
            "variants",
        ]


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Visible products; filter with the same parameters as the store's product list."""

    serializer_class = ProductSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    lookup_field = "slug"

    def get_queryset(self):
        return (
            Product.objects.visible()
            .select_related("brand", "category")
            .prefetch_related("images", "variants")
            .order_by("-created_at", "pk")
        )


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.all()
    lookup_field = "slug"
    pagination_class = None


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
    shipping_method = serializers.CharField(source="shipping_method.name", read_only=True)

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


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in shopper's own orders."""

    serializer_class = OrderSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "number"
    queryset = Order.objects.none()  # for the schema; get_queryset scopes to the shopper

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return orders_for_user(self.request.user)


router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")
router.register("orders", OrderViewSet, basename="order")
