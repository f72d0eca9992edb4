"""Loyalty in the admin: tiers, earn rules, coupons (issue by hand, generate in bulk, revoke)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError

from shop.models import Category, Product

from . import rules, services
from .models import Coupon, CouponRedemption, EarnRule, LoyaltyStatus, Tier


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "min_spend", "min_orders", "benefits"]
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
    list_display = ["user", "tier", "spend_12m", "orders_12m", "orders_total", "last_order_at"]
    list_filter = ["tier"]
    list_select_related = ["user", "tier"]
    search_fields = ["user__email"]
    readonly_fields = [f.name for f in LoyaltyStatus._meta.fields]

    def has_add_permission(self, request):
        return False


class CouponForm(forms.ModelForm):
    """The rule in plain fields; saved as the coupon's ``conditions`` list."""

    min_subtotal = forms.DecimalField(
        label="Minimum order (€)", required=False, min_value=0.01, decimal_places=2
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.all(),
        required=False,
        widget=FilteredSelectMultiple("categories", is_stacked=False),
        help_text="Only products of these categories (and their subcategories).",
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=FilteredSelectMultiple("products", is_stacked=False),
    )
    first_order = forms.BooleanField(label="First order only", required=False)
    min_tier = forms.ModelChoiceField(
        queryset=Tier.objects.all(), required=False, label="Tier or above"
    )
    code = forms.CharField(required=False, max_length=40, help_text="Leave empty to generate one.")

    class Meta:
        model = Coupon
        fields = [
            "code",
            "kind",
            "owner",
            "reason",
            "benefit_type",
            "benefit_value",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_shopper",
            "combinable",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for c in self.instance.conditions or []:
            if c["type"] == "min_subtotal":
                self.fields["min_subtotal"].initial = c["amount"]
            elif c["type"] == "categories":
                self.fields["categories"].initial = c["ids"]
            elif c["type"] == "products":
                self.fields["products"].initial = c["ids"]
            elif c["type"] == "first_order":
                self.fields["first_order"].initial = True
            elif c["type"] == "tier":
                self.fields["min_tier"].initial = Tier.objects.filter(slug=c["slug"]).first()

    def conditions(self) -> list[dict]:
        data = self.cleaned_data
        result = []
        if data.get("min_subtotal"):
            result.append({"type": "min_subtotal", "amount": str(data["min_subtotal"])})
        if data.get("categories"):
            cats = list(data["categories"])
            result.append(
                {"type": "categories", "ids": [c.pk for c in cats], "names": [c.name for c in cats]}
            )
        if data.get("products"):
            items = list(data["products"])
            result.append(
                {"type": "products", "ids": [p.pk for p in items], "names": [p.name for p in items]}
            )
        if data.get("first_order"):
            result.append({"type": "first_order"})
        if data.get("min_tier"):
            result.append({"type": "tier", "slug": data["min_tier"].slug})
        return result

    def clean(self):
        data = super().clean()
        try:
            data["conditions"] = rules.clean_conditions(self.conditions())
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if data.get("kind") == Coupon.Kind.SINGLE and not data.get("owner"):
            self.add_error("owner", "A single code belongs to one shopper: choose the shopper.")
        return data


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
    created = services.coupon_generate_bulk(
        template=queryset.get(), count=100, prefix="BULK", issued_by=request.user
    )
    modeladmin.message_user(request, f"{len(created)} codes generated (batch {created[0].batch}).")


class RedemptionInline(admin.TabularInline):
    model = CouponRedemption
    extra = 0
    can_delete = False
    readonly_fields = ["order", "user", "amount", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


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
    readonly_fields = [
        "uses",
        "trigger",
        "occasion",
        "facts",
        "issued_by",
        "batch",
        "revoked_at",
        "revoked_reason",
        "created_at",
        "rule_in_words",
    ]
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
            {
                "fields": [
                    "rule_in_words",
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
            },
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
        created = services.coupon_issue(
            reason=data["reason"],
            benefit_type=data["benefit_type"],
            benefit_value=data["benefit_value"],
            owner=data.get("owner"),
            code=data.get("code") or "",
            kind=data.get("kind") or "",
            conditions=data["conditions"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            max_uses=data.get("max_uses"),
            max_uses_per_shopper=data.get("max_uses_per_shopper"),
            combinable=data.get("combinable", False),
            issued_by=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
