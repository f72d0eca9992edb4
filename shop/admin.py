from django.contrib import admin, messages
from django.db.models import Sum

from config.admin_labels import LabelledListEditable

from .exceptions import ShopError
from .models import (
    Brand,
    Cart,
    CartItem,
    Category,
    Order,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    Product,
    ProductImage,
    ShippingMethod,
    Variant,
)
from .money import money_field
from .services import catalogue_changed, order_set_status, product_reindex


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position"]
    list_filter = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        product_reindex()


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        product_reindex(product_ids=list(obj.products.values_list("pk", flat=True)))


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "colour", "size", "stock", "position"]


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", "Low (under 5)"), ("in", "In stock")]

    def queryset(self, request, queryset):
        annotated = queryset.annotate(total_stock=Sum("variants__stock"))
        if self.value() == "out":
            return annotated.filter(total_stock__lte=0) | annotated.filter(total_stock=None)
        if self.value() == "low":
            return annotated.filter(total_stock__gt=0, total_stock__lt=5)
        if self.value() == "in":
            return annotated.filter(total_stock__gt=0)
        return queryset


@admin.register(Product)
class ProductAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["name", "brand", "category", "price", "total_stock", "rating_avg", "is_active"]
    list_filter = ["is_active", StockFilter, "category", "brand"]
    list_editable = ["price", "is_active"]
    list_select_related = ["brand", "category"]
    search_fields = ["name", "slug", "brand__name", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["rating_avg", "rating_count", "created_at", "updated_at"]
    inlines = [VariantInline, ProductImageInline]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_stock=Sum("variants__stock"))

    @admin.display(ordering="_stock", description="Stock")
    def total_stock(self, obj):
        return obj._stock or 0

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        product_reindex(product_ids=[form.instance.pk])


@admin.register(Variant)
class VariantAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["sku", "product", "colour", "size", "stock"]
    list_editable = ["stock"]
    list_select_related = ["product"]
    list_filter = ["product__category"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalogue_changed()  # a new colour or size is a new filter choice


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "price_shown", "free_over_shown", "delivery_days", "is_active"]
    price_shown = money_field("price")
    free_over_shown = money_field("free_over", "free over")


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "product_name",
        "variant_label",
        "sku",
        "unit_price_shown",
        "quantity",
        "line_total_shown",
    ]
    fields = readonly_fields
    unit_price_shown = money_field("unit_price", "unit price")
    line_total_shown = money_field("line_total", "line total")

    def has_add_permission(self, request, obj=None):
        return False


class OrderDiscountInline(admin.TabularInline):
    model = OrderDiscount
    extra = 0
    can_delete = False
    readonly_fields = ["code", "label", "amount_shown", "on_shipping"]
    fields = readonly_fields
    amount_shown = money_field("amount")
    verbose_name = "discount"

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "message", "actor"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


def _status_action(status, label):
    @admin.action(description=label, permissions=["change"])
    def action(modeladmin, request, queryset):
        moved = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                order_set_status(order_id=order_id, status=status, actor=request.user)
                moved += 1
            except ShopError as error:
                modeladmin.message_user(request, str(error), messages.WARNING)
        if moved:
            modeladmin.message_user(request, f"{moved} order(s) marked {label.split()[-1]}.")

    action.__name__ = f"mark_{status}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "created_at",
        "email",
        "discount_total_shown",
        "total_shown",
        "status",
        "shipping_method",
    ]
    list_filter = ["status", "shipping_method", "created_at"]
    subtotal_shown = money_field("subtotal")
    shipping_cost_shown = money_field("shipping_cost", "shipping")
    discount_total_shown = money_field("discount_total", "discounts")
    total_shown = money_field("total")
    search_fields = ["number", "email", "full_name", "user__email", "lines__sku"]
    date_hierarchy = "created_at"
    list_select_related = ["shipping_method"]
    inlines = [OrderLineInline, OrderDiscountInline, OrderEventInline]
    readonly_fields = [
        "number",
        "user",
        "email",
        "status",
        "subtotal_shown",
        "shipping_cost_shown",
        "discount_total_shown",
        "total_shown",
        "currency",
        "payment_gateway",
        "payment_reference",
        "card_last4",
        "created_at",
        "shipping_method",
    ]
    fieldsets = [
        (None, {"fields": ["number", "status", "user", "email", "created_at"]}),
        (
            "Shipping",
            {
                "fields": [
                    "full_name",
                    "line1",
                    "line2",
                    "postcode",
                    "city",
                    "country",
                    "phone",
                    "shipping_method",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "subtotal_shown",
                    "shipping_cost_shown",
                    "discount_total_shown",
                    "total_shown",
                    "currency",
                    "payment_gateway",
                    "payment_reference",
                    "card_last4",
                ]
            },
        ),
    ]
    actions = [
        _status_action(Order.Status.PROCESSING, "Mark as processing"),
        _status_action(Order.Status.SHIPPED, "Mark as shipped"),
        _status_action(Order.Status.DELIVERED, "Mark as delivered"),
        _status_action(Order.Status.CANCELLED, "Mark as cancelled (restocks)"),
        _status_action(Order.Status.REFUNDED, "Mark as refunded"),
    ]

    def has_add_permission(self, request):
        return False


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ["variant"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "session_key", "updated_at"]
    search_fields = ["user__email"]
    inlines = [CartItemInline]
    raw_id_fields = ["user"]
