"""``{% banner "home_hero" %}``: the chosen banner for this page and shopper, with its why link."""

from django import template

from personalization.events import existing_anonymous_id

from ..selectors import banner_choose
from ..services import banner_decision_record

register = template.Library()


@register.inclusion_tag("banners/_banner.html", takes_context=True)
def banner(context, placement):
    request = context.get("request")
    if request is None:
        return {"choice": None}
    user = getattr(request, "user", None)
    visitor = ""
    if not (user is not None and user.is_authenticated):
        # No session is made for a banner (shop.lazy): a visitor without an id is uncounted.
        visitor = existing_anonymous_id(request)
    # Category and product pages put the category chain in "breadcrumbs": what is browsed now.
    category_ids = tuple(node.id for node in context.get("breadcrumbs") or ())
    if visitor:  # anonymous: what this session browsed lately counts too, not only this page
        from ..selectors import visitor_recent_categories

        category_ids = visitor_recent_categories(visitor, current=category_ids)
    choice = banner_choose(
        placement=placement, user=user, visitor=visitor, category_ids=category_ids
    )
    if choice is None:
        return {"choice": None}
    banner_decision_record(choice=choice, user=user, visitor=visitor)
    return {"choice": choice, "creative": choice.creative, "placement": placement}
