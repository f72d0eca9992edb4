from django import forms

from . import registry, transport
from .models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=registry.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            transport.check_url(url)
        except transport.UnsafeTarget as error:
            raise forms.ValidationError(f"This URL cannot receive webhooks: {error}") from None
        return url
