from zoneinfo import available_timezones

from django import forms

from . import topics
from .models import Subscriber
from .services import MAX_PAUSE_WEEKS

OPT_IN_LABEL = "Email me offers and picks for me (at most a couple a week; unsubscribe any time)"


def _zone_choices():
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [("", "Use the store's time zone"), ("UTC", "UTC")] + [(z, z) for z in zones]


class SignupForm(forms.Form):
    """Extra sign-up fields (allauth ``ACCOUNT_SIGNUP_FORM_CLASS``): marketing opt-in, zone."""

    marketing_opt_in = forms.BooleanField(required=False, label=OPT_IN_LABEL)
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def signup(self, request, user):
        from .models import MarketingConsentRecord
        from .services import OutreachError, marketing_consent_set, preferences_update

        zone = self.cleaned_data.get("time_zone", "")
        if self.cleaned_data.get("marketing_opt_in"):
            try:
                preferences_update(
                    user=user,
                    opted_in=True,
                    muted_topics=set(),
                    frequency="normal",
                    time_zone=zone,
                    source=MarketingConsentRecord.Source.SIGNUP,
                )
            except OutreachError:  # a browser zone we do not know: keep the consent
                marketing_consent_set(
                    user=user, opted_in=True, source=MarketingConsentRecord.Source.SIGNUP
                )


class PreferencesForm(forms.Form):
    opted_in = forms.BooleanField(required=False, label=OPT_IN_LABEL)
    wanted_topics = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Topics",
        choices=topics.choices,
    )
    frequency = forms.ChoiceField(
        widget=forms.RadioSelect,
        choices=[
            ("normal", "Normal"),
            ("fewer", "Fewer emails"),
            ("pause", "Pause for a while"),
        ],
        initial="normal",
        label="How often",
    )
    pause_weeks = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAUSE_WEEKS,
        label="Pause for (weeks)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    time_zone = forms.ChoiceField(
        required=False, choices=_zone_choices, label="Your time zone (no email at night)"
    )

    def clean(self):
        data = super().clean()
        if data.get("frequency") == "pause" and not data.get("pause_weeks"):
            self.add_error("pause_weeks", "How many weeks should we pause for?")
        return data

    @classmethod
    def initial_for(cls, subscriber: Subscriber | None, muted: set[str]) -> dict:
        if subscriber is None:
            return {"wanted_topics": topics.codes(), "frequency": "normal"}
        paused = subscriber.paused_until is not None
        return {
            "opted_in": subscriber.marketing_opt_in,
            "wanted_topics": [t for t in topics.codes() if t not in muted],
            "frequency": "pause" if paused else subscriber.frequency,
            "time_zone": subscriber.time_zone,
        }
