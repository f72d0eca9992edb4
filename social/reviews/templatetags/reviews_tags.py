from django import template
from django.core.paginator import Paginator

from .. import selectors
from ..forms import AnswerForm, QuestionForm

register = template.Library()


@register.inclusion_tag("reviews/_section.html", takes_context=True)
def product_reviews(context, product):
    """Rating summary, sorted/filtered reviews and questions of a product: a fixed number of
    queries however many reviews it has."""
    request = context["request"]
    sort = selectors.parse_sort(request.GET.get("rsort"))
    stars = selectors.parse_stars(request.GET.get("rstars"))
    paginator = Paginator(
        selectors.reviews_for_product(product, sort=sort, stars=stars),
        selectors.reviews_per_page(),
    )
    if not stars:  # every approved review: the product keeps that count (product_rating_refresh)
        paginator.count = product.rating_count
    page = paginator.get_page(request.GET.get("rpage"))
    reviews = list(page.object_list)
    user = request.user
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "product": product,
        "summary": selectors.rating_summary(product),
        "page": page,
        "reviews": reviews,
        "sort": sort,
        "stars": stars,
        "sorts": [(key, label) for key, (label, _order) in selectors.SORTS.items()],
        "my_review": selectors.review_of(user=user, product=product),
        "voted": selectors.voted_ids(user=user, review_ids=[r.pk for r in reviews]),
        "questions": selectors.questions_for_product(product),
        "question_form": QuestionForm(),
        "answer_form": AnswerForm(),
    }


@register.simple_tag(takes_context=True)
def reviews_query(context, **changes):
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    if "rpage" not in changes:
        params.pop("rpage", None)
    encoded = params.urlencode()
    return ("?" + encoded if encoded else "?") + "#reviews"


@register.filter
def shopper_name(user) -> str:
    return selectors.display_name(user)


@register.filter
def shopper_link(user):
    """The shopper's public name, linked to their public profile when it is public."""
    from django.utils.html import format_html

    from social.engagement.selectors import public_profile_url

    name = selectors.display_name(user)
    url = public_profile_url(user)
    return name if url is None else format_html('<a class="poster" href="{}">{}</a>', url, name)


@register.simple_tag
def review_policy() -> str:
    """The moderation policy in force, in the words shoppers read (services.POLICY_WORDS)."""
    from ..services import auto_approve_policy_words

    return auto_approve_policy_words()
