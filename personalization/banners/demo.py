"""Demo banners: a segment banner for Friendbook shoppers who shared age and interests (A/B), a
default hero for everyone else, a capped cart banner and a category banner for browsers."""

from personalization.segments.builtin import AGE_BANDS, INTERESTS

SHARERS = {
    "op": "and",
    "rules": [
        {"type": "age_band", "params": {"bands": AGE_BANDS}},
        {"type": "interest", "params": {"interests": INTERESTS}},
    ],
}


def seed(*, stdout) -> None:
    from personalization.segments import services as segment_services
    from personalization.segments.models import Segment
    from shop.models import Category, ShippingMethod

    from . import services
    from .models import Banner, BannerVariant, Placement

    segment = Segment.objects.filter(slug="shared-age-and-interests").first()
    if segment is None:
        segment = segment_services.segment_save_rules(
            segment=Segment(
                slug="shared-age-and-interests",
                name="Shared age and interests",
                description="Friendbook shoppers who share their age band and interests.",
            ),
            rules=SHARERS,
        )
    segment_services.segments_refresh(segment_ids=[segment.pk])
    segment.refresh_from_db()
    if Banner.objects.exists():
        stdout.write("banners: demo banners already there\n")
        return
    targeted = Banner.objects.create(
        name="Picked for people like you", placement=Placement.HOME_HERO, priority=10
    )
    targeted.segments.add(segment)
    BannerVariant.objects.create(
        banner=targeted,
        name="A",
        is_control=True,
        headline="Gear for what you love doing",
        text="You told us your interests: we gathered the products people like you rate best.",
        cta_label="See your picks",
        cta_url="/products/?sort=rating",
    )
    BannerVariant.objects.create(
        banner=targeted,
        name="B",
        headline="Your weekend, sorted",
        text="Hand-picked for your interests and your age group, rated by real shoppers.",
        cta_label="Take a look",
        cta_url="/products/?sort=rating",
    )
    default = Banner.objects.create(name="Welcome", placement=Placement.HOME_HERO, priority=0)
    BannerVariant.objects.create(
        banner=default,
        headline="New this week at Agora",
        text="Fresh arrivals, reviewed by the community.",
        cta_label="Browse new arrivals",
        cta_url="/products/",
    )
    free = (
        ShippingMethod.objects.filter(is_active=True, free_over__isnull=False)
        .order_by("free_over")
        .first()
    )
    if free is not None:  # the reminder quotes the threshold checkout applies, never a guess
        whole = free.free_over == free.free_over.to_integral_value()
        amount = f"€{free.free_over:.0f}" if whole else f"€{free.free_over:.2f}"
        cart = Banner.objects.create(
            name="Free shipping reminder", placement=Placement.CART, frequency_cap=3
        )
        BannerVariant.objects.create(
            banner=cart,
            headline=f"Free {free.name.lower()} shipping from {amount}",
            text="Add a little more and we ship for free.",
            cta_label="Keep shopping",
            cta_url="/products/",
        )
    root = Category.objects.filter(parent__isnull=True).order_by("position", "pk").first()
    if root is not None:
        browsing = Banner.objects.create(
            name=f"{root.name} week", placement=Placement.CATEGORY, priority=5
        )
        browsing.categories.add(root)
        BannerVariant.objects.create(
            banner=browsing,
            headline=f"{root.name} week: the community's favourites",
            text="The best-rated picks of the category you are browsing.",
            cta_label="See the favourites",
            # shown on the category's own pages: its best rated first, not the page again
            cta_url=f"/c/{root.slug}/?sort=rating",
        )
        # follows a visitor home from the category they looked at (their session's events)
        back = Banner.objects.create(
            name=f"Back to {root.name}", placement=Placement.HOME_HERO, priority=5
        )
        back.categories.add(root)
        BannerVariant.objects.create(
            banner=back,
            headline=f"Still looking at {root.name}?",
            text="You looked at it lately: here are the pieces shoppers rate best.",
            cta_label=f"Back to {root.name}",
            cta_url=f"/c/{root.slug}/?sort=rating",  # "the pieces shoppers rate best"
        )
    account = Banner.objects.create(name="Tell us more", placement=Placement.ACCOUNT)
    BannerVariant.objects.create(
        banner=account,
        headline="Better picks, your way",
        text="Choose what you share and remove any interest at any time.",
        cta_label="Your interests",
        cta_url="/account/interests/",
    )
    services.banners_changed()
    stdout.write(
        f"banners: 5 demo banners; segment '{segment.name}' has {segment.member_count} members\n"
    )
