"""Segments and banners at scale: 100,000 bench shoppers (bench.profiles' data).

Rows: segments.refresh_from_empty (all built-in segments, membership emptied first),
segments.refresh_steady (the same again: nothing changes), banners.choose_personalized and
banners.choose_without_personalization (choosing and recording the home hero banner for one
shopper, warm cache, same run; both must make no database query), and the home page itself
with and without personalization, interleaved in the same run (banners.home_page_*).
A third of the bench shoppers get an age band and interests they consent to (set here).
"""

import statistics
import time

from django.db import connection, transaction

from bench.profiles import _scalar, make_data

DEMOGRAPHICS_SQL = """
UPDATE personalization_preferenceprofile p SET demographics = jsonb_build_object(
    'age_band', (ARRAY['18-24','25-34','35-44','45-54','55-64'])[1 + p.user_id %% 5],
    'interests', jsonb_build_array(
        (ARRAY['running','hiking','coffee','gaming','yoga','cooking','jazz','sneakers'])
        [1 + p.user_id %% 8]))
FROM auth_user u WHERE u.id = p.user_id AND u.username LIKE 'bench%%' AND p.user_id %% 3 = 0;
INSERT INTO social_consentrecord (user_id, category, action, source, provider, policy_version,
    created_at)
SELECT u.id, c, 'granted', 'permission_screen', 'friendbook', 'bench', now()
FROM auth_user u CROSS JOIN unnest(ARRAY['age', 'interests']) c
WHERE u.username LIKE 'bench%%' AND u.id %% 3 = 0
  AND NOT EXISTS (SELECT 1 FROM social_consentrecord r WHERE r.user_id = u.id);
"""


def _prepare(log) -> None:
    from personalization import building

    if _scalar("SELECT count(*) FROM personalization_preferenceprofile") == 0:
        result = building.build_full()
        log(f"built {result.profiles:,} profiles")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DEMOGRAPHICS_SQL, {})
        cursor.execute("ANALYZE personalization_preferenceprofile")
        cursor.execute("ANALYZE social_consentrecord")
    from personalization.segments.builtin import ensure_builtin_segments

    ensure_builtin_segments()


def _banners():
    from personalization.banners.models import Banner, BannerVariant, Placement
    from personalization.banners.selectors import banners_cache_forget
    from personalization.segments.models import Segment

    if not Banner.objects.filter(name="bench targeted").exists():
        targeted = Banner.objects.create(
            name="bench targeted", placement=Placement.HOME_HERO, priority=10
        )
        targeted.segments.add(Segment.objects.get(slug="age-25-34"))
        BannerVariant.objects.create(banner=targeted, name="A", headline="Bench A")
        BannerVariant.objects.create(banner=targeted, name="B", headline="Bench B")
        default = Banner.objects.create(name="bench default", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=default, name="A", headline="Bench default")
    # a cap would turn the targeted banner off part-way through the 2,000 samples
    Banner.objects.filter(name="bench targeted").update(frequency_cap=None)
    banners_cache_forget()


def _choose_timings(user, samples=2000) -> tuple[float, int, str]:
    from django.test.utils import CaptureQueriesContext

    from personalization.banners.selectors import banner_choose
    from personalization.banners.services import banner_decision_record

    choice = banner_choose(placement="home_hero", user=user)  # warm
    timings = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(samples):
            started = time.perf_counter()
            choice = banner_choose(placement="home_hero", user=user)
            banner_decision_record(choice=choice, user=user)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings), len(queries), choice.reason


def _page_timings(member, other, samples=300) -> dict:
    """The home page for two shoppers, interleaved in one loop on a warm cache: ``member`` gets
    the targeted banner and their own picks, ``other`` turned personalization off (the same page
    without personalization: the banner for everyone and the popular picks). Returns medians in
    ms and the queries of one warm page each. Through Django's test client (middleware,
    session, template) in this process, so the difference is what personalization adds."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for name, user in (("personalized", member), ("off", other)):
        client = Client()
        client.force_login(user)
        assert client.get("/").status_code == 200  # warm
        clients[name] = client
    timings = {name: [] for name in clients}
    for _ in range(samples):
        for name, client in clients.items():
            started = time.perf_counter()
            client.get("/")
            timings[name].append(time.perf_counter() - started)
    queries, pages = {}, {}
    for name, client in clients.items():
        with CaptureQueriesContext(connection) as captured:
            pages[name] = client.get("/").content.decode()
        queries[name] = len(captured)
    assert "Bench A" in pages["personalized"] or "Bench B" in pages["personalized"]
    assert "Bench default" in pages["off"]
    medians = {name: statistics.median(values) * 1e3 for name, values in timings.items()}
    return {"ms": medians, "queries": queries}


def run(*, shoppers: int, events: int) -> list[dict]:
    from django.contrib.auth import get_user_model

    from personalization.banners.services import banner_decisions_flush
    from personalization.models import ShopperChoice
    from personalization.segments.models import SegmentMembership
    from personalization.segments.services import segments_refresh

    def log(message):
        print(f"[segments] {message}", flush=True)

    make_data(shoppers=shoppers, events=events, log=log)
    _prepare(log)
    size = f"{shoppers:,} shoppers"
    SegmentMembership.objects.all().delete()
    empty = segments_refresh()
    log(
        f"refresh from empty: {empty.seconds:.2f} s, {empty.segments} segments, "
        f"{empty.entered:,} entries, errors {empty.errors}"
    )
    steady = segments_refresh()
    log(f"steady refresh: {steady.seconds:.2f} s, {steady.entered + steady.left} changes")

    _banners()
    users = get_user_model().objects.filter(username__startswith="bench")
    member = users.filter(segment_memberships__segment__slug="age-25-34").order_by("pk").first()
    other = users.exclude(pk=member.pk).filter(preference_profile__isnull=False).first()
    ShopperChoice.objects.update_or_create(user=other, defaults={"personalization_enabled": False})
    from personalization.segments.selectors import segment_cache_forget

    segment_cache_forget(user_ids=[other.pk])
    personalized, q1, reason1 = _choose_timings(member)
    plain, q2, reason2 = _choose_timings(other)
    assert (reason1, reason2) == ("segment", "everyone"), (reason1, reason2)
    log(
        f"choose+record: personalized {personalized * 1e3:.3f} ms ({q1} queries), "
        f"without personalization {plain * 1e3:.3f} ms ({q2} queries)"
    )
    page = _page_timings(member, other)
    added = page["ms"]["personalized"] - page["ms"]["off"]
    log(
        f"home page: personalized {page['ms']['personalized']:.3f} ms "
        f"({page['queries']['personalized']} queries), personalization off "
        f"{page['ms']['off']:.3f} ms ({page['queries']['off']} queries): adds {added:.3f} ms"
    )
    flushed = banner_decisions_flush()
    log(f"flushed {flushed:,} queued decisions")
    return [
        {
            "name": "segments.refresh_from_empty",
            "value": round(empty.seconds, 3),
            "unit": "s",
            "size": f"{size}, {empty.segments} built-in segments, {empty.entered:,} entries",
            "reference": "issue 9: at most 10 s",
        },
        {
            "name": "segments.refresh_steady",
            "value": round(steady.seconds, 3),
            "unit": "s",
            "size": f"{size}, {steady.segments} segments, no change",
            "reference": "issue 9: at most 10 s",
        },
        {
            "name": "banners.choose_personalized",
            "value": round(personalized * 1e3, 4),
            "unit": "ms",
            "size": f"median of 2000, warm cache, {q1} DB queries",
            "reference": "issue 9: no query, at most 2 ms",
        },
        {
            "name": "banners.choose_without_personalization",
            "value": round(plain * 1e3, 4),
            "unit": "ms",
            "size": f"median of 2000, warm cache, {q2} DB queries",
            "reference": "same page, personalization off",
        },
        {
            "name": "banners.home_page_personalized",
            "value": round(page["ms"]["personalized"], 4),
            "unit": "ms",
            "size": (
                f"median of 300, warm, test client in-process, {page['queries']['personalized']} "
                "DB queries (session, user, page)"
            ),
            "reference": "the home page with a targeted banner and own picks",
        },
        {
            "name": "banners.home_page_personalization_off",
            "value": round(page["ms"]["off"], 4),
            "unit": "ms",
            "size": f"median of 300, interleaved with the above, {page['queries']['off']} queries",
            "reference": "the same page without personalization, same run",
        },
        {
            "name": "banners.home_page_added_by_personalization",
            "value": round(added, 4),
            "unit": "ms",
            "size": (
                f"difference of the two medians; queries {page['queries']['personalized']} vs "
                f"{page['queries']['off']}"
            ),
            "reference": "issue 9: no query and at most 2 ms added to the page",
        },
    ]
