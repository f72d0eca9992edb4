"""Banners: targeting, the cache, A/B split, cap, the why page and the personalization switch."""

import math
from collections import Counter

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization import services as pz_services
from personalization.banners import services, stats
from personalization.banners.models import Banner, BannerDecision, BannerVariant, Placement
from personalization.banners.selectors import active_banners, banner_choose, variant_for
from personalization.segments import services as segment_services
from personalization.segments.models import Segment
from social import services as social_services
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]

YOUNG = {"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["25-34"]}}]}


def refresh(**kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return segment_services.segments_refresh(**kwargs)


def share(user, age="25-34"):
    social_services.consent_apply_sign_in(
        user=user, provider="friendbook", granted={"age"}, profile={"age_band": age}
    )
    pz_services.profile_rebuild_for_user(user_id=user.pk)


@pytest.fixture
def setup():
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_services.segment_save_rules(
            segment=Segment(slug="young", name="Young"), rules=YOUNG
        )
        targeted = Banner.objects.create(name="Young", placement=Placement.HOME_HERO, priority=10)
        targeted.segments.add(segment)
        BannerVariant.objects.create(banner=targeted, name="A", headline="For the young ones")
        default = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=default, name="A", headline="Hello everybody")
        services.banners_changed()
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    share(ann)
    share(bob, age="45-54")
    refresh()
    return {"segment": segment, "targeted": targeted, "default": default, "ann": ann, "bob": bob}


def test_members_see_the_targeted_banner_and_others_the_default(client, setup):
    client.force_login(setup["ann"])
    page = client.get("/").content.decode()
    assert "For the young ones" in page and "Hello everybody" not in page
    client.force_login(setup["bob"])
    page = client.get("/").content.decode()
    assert "Hello everybody" in page and "For the young ones" not in page
    client.logout()
    page = client.get("/").content.decode()
    assert "Hello everybody" in page and "For the young ones" not in page


def test_a_banner_cached_for_one_shopper_is_never_shown_to_another(client, setup):
    ann, bob = setup["ann"], setup["bob"]
    for _ in range(2):  # the second round runs on a warm cache
        assert banner_choose(placement="home_hero", user=ann).banner_id == setup["targeted"].pk
        assert banner_choose(placement="home_hero", user=bob).banner_id == setup["default"].pk
    client.force_login(bob)
    assert "For the young ones" not in client.get("/").content.decode()


def test_choosing_reads_only_the_cache_once_warm(setup):
    from personalization.banners.models import BannerDecision

    ann = setup["ann"]
    choice = banner_choose(placement="home_hero", user=ann)  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        choice = banner_choose(placement="home_hero", user=ann)
        services.banner_decision_record(choice=choice, user=ann)
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert not BannerDecision.objects.exists(), "the decision waits in Redis"
    assert services.banner_decisions_flush() == 1
    decision = BannerDecision.objects.get()
    assert decision.segment == setup["segment"] and decision.reason == "segment"
    assert decision.rule_path[0]["type"] == "age_band"
    assert BannerVariant.objects.get(banner=setup["targeted"]).impressions == 1
    assert services.banner_decisions_flush() == 0, "flushing twice writes nothing twice"


def test_why_page_names_the_matched_rule_and_links_to_interests_and_the_switch(client, setup):
    client.force_login(setup["ann"])
    page = client.get("/").content.decode()
    decision_uuid = page.split("/banners/")[1].split("/")[0]
    why = client.get(reverse("banners:why", args=[decision_uuid]))
    assert why.status_code == 200
    text = why.content.decode()
    assert "You are 25–34 and shared your age with us" in text
    assert "“Young” group" in text
    assert reverse("personalization:interests") in text and "turn personalization off" in text
    client.force_login(setup["bob"])
    assert client.get(reverse("banners:why", args=[decision_uuid])).status_code == 404
    assert client.get(reverse("banners:why", args=["not-a-uuid"])).status_code == 404


def test_personalization_off_shows_only_untargeted_banners(client, setup):
    ann = setup["ann"]
    assert banner_choose(placement="home_hero", user=ann).banner_id == setup["targeted"].pk
    with TestCase.captureOnCommitCallbacks(execute=True):
        pz_services.personalization_set_enabled(user=ann, enabled=False)
    assert banner_choose(placement="home_hero", user=ann).banner_id == setup["default"].pk
    client.force_login(ann)
    assert "For the young ones" not in client.get("/").content.decode()


def test_the_ab_split_is_stable_per_shopper_and_follows_the_weights(setup):
    banner = setup["default"]
    BannerVariant.objects.create(banner=banner, name="B", headline="Hi there", weight=50)
    services.banners_changed()
    from personalization.banners.selectors import banners_cache_forget

    banners_cache_forget()
    cached = next(b for b in active_banners("home_hero") if b.id == banner.pk)
    first = [variant_for(cached, f"u{i}").name for i in range(2000)]
    again = [variant_for(cached, f"u{i}").name for i in range(2000)]
    assert first == again
    counts = Counter(first)
    assert 900 < counts["A"] < 1100 and 900 < counts["B"] < 1100


def test_the_frequency_cap_gives_way_to_the_next_banner(setup):
    Banner.objects.filter(pk=setup["targeted"].pk).update(frequency_cap=2)
    from personalization.banners.selectors import banners_cache_forget

    banners_cache_forget()
    shown = [banner_choose(placement="home_hero", user=setup["ann"]).banner_id for _ in range(4)]
    targeted, default = setup["targeted"].pk, setup["default"].pk
    assert shown == [targeted, targeted, default, default]
    # the cap is per shopper: another member still sees it
    carl = UserFactory(username="carl")
    share(carl)
    refresh()
    assert banner_choose(placement="home_hero", user=carl).banner_id == targeted


def test_click_counts_once_and_redirects(client, setup):
    client.force_login(setup["ann"])
    page = client.get("/").content.decode()
    decision_uuid = page.split("/banners/")[1].split("/")[0]
    url = reverse("banners:click", args=[decision_uuid])
    assert client.get(url).status_code == 302
    assert client.get(url).status_code == 302
    variant = BannerVariant.objects.get(banner=setup["targeted"])
    assert (variant.impressions, variant.clicks) == (1, 1)
    assert BannerDecision.objects.get().clicked_at is not None


def test_two_proportion_z_test_matches_the_textbook_formula():
    # 200 clicks of 1000 against 250 of 1000: pooled p = .225
    z, p = stats.two_proportion_z(200, 1000, 250, 1000)
    expected = 0.05 / math.sqrt(0.225 * 0.775 * (2 / 1000))
    assert z == pytest.approx(expected) and z == pytest.approx(2.6774, abs=1e-3)
    assert p == pytest.approx(0.00742, abs=1e-4)
    assert stats.two_proportion_z(1, 10, 2, 10) is None, "too few views to say anything"


def test_pick_winner_sends_all_traffic_to_the_winner(setup):
    banner = setup["default"]
    a = banner.variants.get()
    b = BannerVariant.objects.create(banner=banner, name="B", headline="Hi there")
    services.banner_pick_winner(banner=banner, variant=b)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.weight, b.weight) == (0, 100)
    banner.refresh_from_db()
    assert banner.winner_picked_at is not None


def test_an_anonymous_visitor_gets_banners_from_what_their_session_browsed_lately(client):
    """A category banner follows an anonymous visitor from the product they looked at to the
    home page (their session's recent events), and never reaches another visitor."""
    from tests.factories import CategoryFactory, ProductFactory

    outdoor = CategoryFactory(name="Outdoor")
    tent = ProductFactory(name="Tent", category=outdoor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        browsing = Banner.objects.create(name="Outdoor", placement=Placement.HOME_HERO, priority=5)
        browsing.categories.add(outdoor)
        BannerVariant.objects.create(banner=browsing, name="A", headline="Gear for the hills")
        default = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=default, name="A", headline="Hello everybody")
        services.banners_changed()

    home = client.get("/").content.decode()
    assert "Hello everybody" in home and "Gear for the hills" not in home, "nothing browsed yet"
    # A visitor has an anonymous id (a session) once they need one, here a cart add of a product
    # outside the banner's category; before that, pages set no cookie and nothing follows them.
    mug = ProductFactory(name="Mug", category=CategoryFactory(name="Kitchen"))
    added = client.post(reverse("shop:cart_add"), {"variant": mug.variants.get().pk})
    assert added.status_code == 302 and client.session.session_key, "the visitor has a session"
    home = client.get("/").content.decode()
    assert "Hello everybody" in home and "Gear for the hills" not in home, "a mug is not outdoor"
    assert client.get(tent.get_absolute_url()).status_code == 200  # records the view event
    from personalization.models import Event

    assert Event.objects.filter(product=tent, user__isnull=True).exists(), "precondition"

    home = client.get("/").content.decode()
    assert "Gear for the hills" in home and "Hello everybody" not in home
    services.banner_decisions_flush()
    decision = BannerDecision.objects.filter(banner=browsing).latest("pk")
    assert (decision.reason, decision.category_id) == ("browsing", outdoor.pk)

    from django.test import Client

    stranger = Client().get("/").content.decode()
    assert "Hello everybody" in stranger and "Gear for the hills" not in stranger


def test_the_personalized_parts_of_a_page_run_no_query_once_warm(setup, django_assert_num_queries):
    """What the home page adds for a shopper (the chosen banner, recorded, and their picks)
    reads only the cache once warm: no database query at all."""
    from django.template import Context, Template
    from django.test import RequestFactory

    page = Template(
        '{% load banners recommendation_tags %}{% banner "home_hero" %}{% picked_for_you %}'
    )
    from personalization import events
    from personalization.models import Event
    from personalization.recommendations.services import recommendation_data_refresh
    from tests.factories import ProductFactory

    tent = ProductFactory(name="Tent")
    events.record(Event.Kind.PURCHASE, user=setup["bob"], product=tent, value=tent.price, order="1")
    recommendation_data_refresh()
    request = RequestFactory().get("/")
    request.user = setup["ann"]
    cold = page.render(Context({"request": request}))
    assert "For the young ones" in cold and "data-picks=" in cold, "precondition"
    with django_assert_num_queries(0):
        warm = page.render(Context({"request": request}))
    assert warm.count("For the young ones") == 1 and "Tent" in warm
    assert services.banner_decisions_flush() == 2, "both views were recorded"


def test_a_personalized_home_page_costs_the_same_queries_as_one_without(client, setup):
    """Same page, same run: a shopper with a targeted banner and personal picks and a shopper
    who turned personalization off run the same number of queries once the cache is warm, and
    none of them reads segments, banners or recommendations."""
    ann, bob = setup["ann"], setup["bob"]
    pz_services.personalization_set_enabled(user=bob, enabled=False)
    counts = {}
    for shopper in (ann, bob):
        client.force_login(shopper)
        client.get("/")  # warms the caches
        with CaptureQueriesContext(connection) as warm:
            page = client.get("/").content.decode()
        counts[shopper.username] = len(warm)
        tables = ("segments_", "banners_", "recommendations_")
        assert not [q["sql"] for q in warm if any(t in q["sql"] for t in tables)]
        if shopper == ann:
            assert "For the young ones" in page, "precondition: the personalized page"
        else:
            assert "Hello everybody" in page
    assert counts["ann"] == counts["bob"], counts


def test_a_cookieless_visitor_gets_the_default_banner_and_no_session(client):
    """A visitor without a session (no cart, no like) who browses a category still gets the
    banner for everyone on the home page: nothing follows them from page to page, and showing
    banners never creates a session or sets a cookie for them."""
    from django.conf import settings
    from django.contrib.sessions.models import Session

    from tests.factories import CategoryFactory, ProductFactory

    outdoor = CategoryFactory(name="Outdoor")
    tent = ProductFactory(name="Tent", category=outdoor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        browsing = Banner.objects.create(name="Outdoor", placement=Placement.HOME_HERO, priority=5)
        browsing.categories.add(outdoor)
        BannerVariant.objects.create(banner=browsing, name="A", headline="Gear for the hills")
        default = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=default, name="A", headline="Hello everybody")
        services.banners_changed()

    product_page = client.get(tent.get_absolute_url())
    assert product_page.status_code == 200
    home = client.get("/")
    page = home.content.decode()
    assert "Hello everybody" in page and "Gear for the hills" not in page
    for response in (product_page, home):
        assert settings.SESSION_COOKIE_NAME not in response.cookies, "no cookie for a banner"
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not Session.objects.exists(), "no session was created"
    services.banner_decisions_flush()
    decision = BannerDecision.objects.get(banner=default)
    assert (decision.reason, decision.user_id, decision.visitor) == ("everyone", None, "")


def test_admin_and_api_write_the_same_variant_fields():
    """One list (``BannerVariant.CREATIVE_FIELDS``) feeds the admin's variant form, the API's
    variant serializer and ``banner_save``: a field added to one is in all."""
    from personalization.banners.admin import VariantForm
    from personalization.banners.api import BannerVariantSerializer
    from personalization.banners.models import BannerVariant
    from personalization.banners.services import VARIANT_FIELDS

    creative = list(BannerVariant.CREATIVE_FIELDS)
    assert list(VariantForm.base_fields) == creative
    serializer = BannerVariantSerializer()
    writable = [n for n, f in serializer.fields.items() if not f.read_only]
    assert writable == [f for f in creative if f != "image"] == list(VARIANT_FIELDS)
    assert serializer.fields["image"].read_only  # uploaded on its own endpoint
