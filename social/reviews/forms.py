from django import forms

from .services import BODY_MAX, MAX_PHOTOS, TITLE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.ImageField):
    """Several images in one input; each is checked by Pillow like a single ImageField."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from 1 to 5 stars.",
            "invalid_choice": "Choose a rating from 1 to 5 stars.",
        },
    )
    title = forms.CharField(max_length=TITLE_MAX, strip=True)
    body = forms.CharField(
        label="Your review",
        max_length=BODY_MAX,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 6}),
        strip=True,
    )
    photos = MultipleImageField(
        required=False, help_text=f"Up to {MAX_PHOTOS} photos, 5 MB each (optional)."
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question",
        max_length=1000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label="Your answer", max_length=2000, min_length=2, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with this review?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
