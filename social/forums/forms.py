from django import forms

from .models import ForumCategory
from .services import BODY_MAX, TITLE_MAX


class PostForm(forms.Form):
    body = forms.CharField(
        label="Your post",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, > quote, - lists, [link](https://…). "
        "Mention a product with its link or [[product:its-slug]], a shopper with @username.",
        error_messages={"required": "Please write something: the post is empty."},
    )


class TopicForm(PostForm):
    title = forms.CharField(
        max_length=TITLE_MAX, error_messages={"required": "Please give your topic a title."}
    )
    field_order = ["title", "body"]


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with this post?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MoveForm(forms.Form):
    category = forms.ModelChoiceField(queryset=ForumCategory.objects.all())


class BanForm(forms.Form):
    reason = forms.CharField(max_length=200)
    days = forms.IntegerField(min_value=1, max_value=3650, required=False)
