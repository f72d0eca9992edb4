from django import forms


class DeleteAccountForm(forms.Form):
    """Confirming the deletion: the password (accounts that have one), what happens to the
    shopper's reviews and posts, and an explicit tick."""

    CONTENT_CHOICES = [
        ("remove", "Remove them"),
        ("keep", "Keep them, signed “Former member”"),
    ]

    content = forms.ChoiceField(
        label="Your reviews, questions and forum posts",
        choices=CONTENT_CHOICES,
        initial="remove",
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account and data will be deleted and cannot be restored.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password

    @property
    def keep_content(self) -> bool:
        return self.cleaned_data.get("content") == "keep"
