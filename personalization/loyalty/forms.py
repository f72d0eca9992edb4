"""The staff coupon form: the admin's add/change page and the staff API both validate with it."""

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError

from shop.models import Category, Product

from . import rules
from .models import Coupon, Tier


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
        if data.get("benefit_type"):
            problem = rules.benefit_problem(data["benefit_type"], data.get("benefit_value"))
            if problem:
                self.add_error("benefit_value", problem)
        if data.get("kind") == Coupon.Kind.SINGLE and not data.get("owner"):
            self.add_error("owner", "A single code belongs to one shopper: choose the shopper.")
        return data
