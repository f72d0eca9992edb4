from django import forms

from .models import PublicProfile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = PublicProfile
        fields = ["is_public", "likes_public", "handle", "display_name", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 3, "maxlength": 280})}
        help_texts = {"display_name": "Shown instead of your handle. Leave empty to use it."}
