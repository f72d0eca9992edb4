from django import forms

from . import consent


class PermissionForm(forms.Form):
    """The permission screen: one checkbox per optional category the provider can share.

    Categories shared already stay ticked and cannot be unticked here (their scopes are asked
    again, so their data is refreshed): stopping is done, and recorded, on Privacy & sharing.
    """

    def __init__(
        self,
        *args,
        offered: list[str],
        initial_granted: set[str] = frozenset(),
        offer_marketing: bool = False,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.offered = [code for code in offered if code != consent.BASIC]
        for code in self.offered:
            category = consent.CATEGORIES[code]
            self.fields[code] = forms.BooleanField(
                required=False,
                label=category.title,
                initial=code in initial_granted,
                disabled=code in initial_granted,
            )
        if offer_marketing:
            # Outreach's opt-in, offered here as on the sign-up form: never ticked for them.
            from personalization.outreach.forms import OPT_IN_LABEL

            self.fields["marketing_opt_in"] = forms.BooleanField(
                required=False, initial=False, label=OPT_IN_LABEL
            )

    def wants_marketing(self) -> bool:
        """Whether the shopper ticked the marketing-email offer (unticked by default)."""
        return bool(self.cleaned_data.get("marketing_opt_in"))

    def granted(self) -> set[str]:
        return {consent.BASIC} | {c for c in self.offered if self.cleaned_data.get(c)}

    def rows(self):
        for code, category in consent.CATEGORIES.items():
            if code == consent.BASIC:
                yield category, None
            elif code in self.offered:
                yield category, self[code]
