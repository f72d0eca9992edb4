"""Loyalty in the admin: tiers, earn rules, coupons (issue by hand, generate in bulk, revoke)."""

from django.contrib import admin, messages

from shop.money import money_field

from . import rules, services
from .forms import CouponForm
from .models import Coupon, CouponRedemption, EarnRule, LoyaltyStatus, Tier


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "min_spend_shown", "min_orders", "benefits"]
    min_spend_shown = money_field("min_spend", "min spend")
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.loyalty_refresh()  # thresholds changed: every shopper's tier follows


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "threshold", "tier", "benefit_type", "benefit_value"]
    list_filter = ["trigger", "is_active"]


@admin.register(LoyaltyStatus)
class LoyaltyStatusAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "tier",
        "spend_12m_shown",
        "orders_12m",
        "orders_total",
        "last_order_at",
    ]
    list_filter = ["tier"]
    list_select_related = ["user", "tier"]
    search_fields = ["user__email"]
    readonly_fields = [
        f"{f.name}_shown" if f.name in ("spend_12m", "spend_total") else f.name
        for f in LoyaltyStatus._meta.fields
    ]
    spend_12m_shown = money_field("spend_12m", "spend, last 12 months")
    spend_total_shown = money_field("spend_total", "spend, all time")

    def has_add_permission(self, request):
        return False


@admin.action(description="Withdraw the selected coupons", permissions=["change"])
def revoke(modeladmin, request, queryset):
    for pk in queryset.values_list("pk", flat=True):
        services.coupon_revoke(coupon_id=pk, reason=f"withdrawn by {request.user}")
    modeladmin.message_user(request, "The coupons were withdrawn.")


@admin.action(
    description="Generate 100 single-use codes like the selected one", permissions=["add"]
)
def generate_bulk(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one coupon as the model.", messages.ERROR)
        return
    try:
        created = services.coupon_generate_bulk(
            template=queryset.get(), count=100, prefix="BULK", issued_by=request.user
        )
    except ValueError as refused:  # a model coupon made before the zero-value check
        modeladmin.message_user(request, f"No codes generated: {refused}", messages.ERROR)
        return
    modeladmin.message_user(request, f"{len(created)} codes generated (batch {created[0].batch}).")


class RedemptionInline(admin.TabularInline):
    model = CouponRedemption
    extra = 0
    can_delete = False
    readonly_fields = ["order", "user", "amount_shown", "created_at"]
    fields = readonly_fields
    amount_shown = money_field("amount")

    def has_add_permission(self, request, obj=None):
        return False


# What the system wrote on a coupon: shown, never edited.
RECORD_FIELDS = [
    "uses",
    "trigger",
    "occasion",
    "facts",
    "issued_by",
    "batch",
    "revoked_at",
    "revoked_reason",
    "created_at",
]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Staff issue a coupon by hand here: choose the shopper, the benefit and say why."""

    form = CouponForm
    list_display = [
        "code",
        "kind",
        "owner",
        "benefit_type",
        "benefit_value",
        "trigger",
        "uses",
        "max_uses",
        "valid_until",
        "revoked_at",
        "reason",
    ]
    list_filter = ["trigger", "kind", "benefit_type", "combinable"]
    list_select_related = ["owner"]
    search_fields = ["code", "owner__email", "reason", "batch"]
    raw_id_fields = ["owner"]
    readonly_fields = [*RECORD_FIELDS, "rule_in_words"]
    inlines = [RedemptionInline]
    actions = [revoke, generate_bulk]
    fieldsets = [
        (None, {"fields": ["code", "kind", "owner", "reason"]}),
        ("Benefit", {"fields": ["benefit_type", "benefit_value"]}),
        (
            "Conditions",
            {"fields": ["min_subtotal", "categories", "products", "first_order", "min_tier"]},
        ),
        (
            "Validity and limits",
            {
                "fields": [
                    "valid_from",
                    "valid_until",
                    "max_uses",
                    "max_uses_per_shopper",
                    "combinable",
                ]
            },
        ),
        (
            "Record",
            {"fields": ["rule_in_words", *RECORD_FIELDS]},
        ),
    ]

    @admin.display(description="Rule in words")
    def rule_in_words(self, obj):
        return rules.describe_coupon(obj) if obj.pk else ""

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            obj.conditions = data["conditions"]
            obj.code = services._clean_code(obj.code)
            super().save_model(request, obj, form, change)
            return
        created = services.coupon_issue_staff(form=form, issued_by=request.user)
        obj.pk = created.pk
        obj.refresh_from_db()
