from django import forms
from django.utils import timezone

from .models import COUNTRIES, ShippingMethod
from .payments import Card, luhn_valid


class SecretInput(forms.TextInput):
    """A text input that never renders its value: card data is not sent back to the browser,
    not after a declined payment, not after a validation error (the shopper types it again)."""

    def format_value(self, value):
        return None


CARD_FIELDS = ("card_number", "card_expiry", "card_cvc")


class CheckoutForm(forms.Form):
    email = forms.EmailField(label="Email for the receipt")
    full_name = forms.CharField(label="Full name", max_length=120)
    line1 = forms.CharField(label="Address", max_length=200)
    line2 = forms.CharField(label="Apartment, suite (optional)", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    postcode = forms.CharField(label="Postcode", max_length=20)
    country = forms.ChoiceField(choices=COUNTRIES, initial="DE")
    phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)
    shipping_method = forms.ModelChoiceField(
        queryset=ShippingMethod.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Shipping",
    )
    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=SecretInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    card_expiry = forms.CharField(
        label="Expiry (MM/YY)",
        max_length=7,
        widget=SecretInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    card_cvc = forms.CharField(
        label="CVC",
        max_length=4,
        min_length=3,
        widget=SecretInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}),
    )
    quote = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_card_number(self):
        number = "".join(self.cleaned_data["card_number"].split()).replace("-", "")
        if not luhn_valid(number):
            raise forms.ValidationError("That card number is not valid.")
        return number

    def clean_card_expiry(self):
        raw = self.cleaned_data["card_expiry"].replace(" ", "")
        try:
            month, year = raw.split("/")
            month, year = int(month), int(year)
        except ValueError:
            raise forms.ValidationError("Enter the expiry as MM/YY.") from None
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise forms.ValidationError("The month must be between 01 and 12.")
        today = timezone.now().date()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError("This card has expired.")
        return (month, year)

    def clean_card_cvc(self):
        cvc = self.cleaned_data["card_cvc"].strip()
        if not cvc.isdigit():
            raise forms.ValidationError("The CVC is 3 or 4 digits.")
        return cvc

    def card(self) -> Card:
        month, year = self.cleaned_data["card_expiry"]
        return Card(
            number=self.cleaned_data["card_number"],
            expiry_month=month,
            expiry_year=year,
            cvc=self.cleaned_data["card_cvc"],
        )
