"""The CRM at scale: 100,000 customers and 1,000,000 events (bench.profiles' generator).

Rows (median wall time of a full admin request through Django's test client, signed in as a
superuser, templates rendered): crm.customer_list, crm.customer_search (a name fragment over
email, first name, last name and username), crm.customer_search_email (an address), crm.360
(the customer with the most events plus 10,000 more, timeline page 1), crm.360_deep_page
(its timeline page 200),
crm.duplicates (the duplicate finder's SQL over all customers).
The data is the profiles benchmark's (made once, reused); profiles are built if missing.
"""

import statistics
import time

from django.db import connection

from .profiles import _scalar, make_data

RUNS = 7
LONG_HISTORY = 10_000


def _median(fn, runs: int = RUNS) -> float:
    fn()  # warm-up: imports, template compilation, connection
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run(*, shoppers: int, events: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from crm import selectors
    from personalization import building

    def log(message):
        print(f"[crm] {message}", flush=True)

    make_data(shoppers=shoppers, events=events, log=log)
    if _scalar("SELECT count(*) FROM personalization_preferenceprofile") == 0:
        log(f"built {building.build_full().profiles:,} profiles")
    user_model = get_user_model()
    admin, _ = user_model.objects.get_or_create(
        username="crm-bench-admin",  # not "bench…": the generator counts those
        defaults={"email": "crm-bench-admin@bench.test", "is_staff": True, "is_superuser": True},
    )
    client = Client()
    client.force_login(admin)
    busiest = _scalar(
        "SELECT user_id FROM personalization_event WHERE user_id IS NOT NULL "
        "GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
    )
    history = _scalar("SELECT count(*) FROM personalization_event WHERE user_id = %s", [busiest])
    listing = reverse("admin:crm_customer_changelist")
    page = reverse("admin:crm_customer_change", args=[busiest])
    # a long history: 10,000 more events for one customer (deleted again at the end, so the
    # profiles benchmark still finds its data as it made it)
    before = _scalar("SELECT max(id) FROM personalization_event")
    long_id = busiest
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO personalization_event (kind, user_id, session_key, product_id, "
            "attributes, value, occurred_at) SELECT 'view', %s, '', NULL, '{}'::jsonb, NULL, "
            "now() - g * interval '1 minute' FROM generate_series(1, %s) g",
            [long_id, LONG_HISTORY],
        )
    long_history = history + LONG_HISTORY

    def get(url, params=None):
        def call():
            response = client.get(url, params or {})
            assert response.status_code == 200, (url, response.status_code)

        return call

    try:
        size = f"{shoppers:,} customers, {events:,} events"
        rows = []
        for name, fn, note in [
            ("crm.customer_list", get(listing), "first page of 50"),
            ("crm.customer_search", get(listing, {"q": "bench4321"}), "icontains on 4 fields"),
            (
                "crm.customer_search_email",
                get(listing, {"q": "bench4321@bench.test"}),
                "an email address",
            ),
            ("crm.360", get(page), f"customer with {long_history:,} events, timeline page 1"),
            ("crm.360_deep_page", get(page, {"page": 200}), "the same, timeline page 200"),
            ("crm.duplicates", lambda: selectors.duplicate_pairs(), "finder SQL, all customers"),
        ]:
            seconds = _median(fn)
            log(f"{name}: {seconds * 1000:.0f} ms ({note})")
            rows.append(
                {
                    "name": name,
                    "value": round(seconds, 4),
                    "unit": "s",
                    "size": size,
                    "reference": f"target < 1 s; {note}",
                }
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM personalization_event WHERE id > %s", [before])
    # the 360 views were audited like any staff view; drop the bench's rows
    from crm.models import AuditEntry

    AuditEntry.objects.filter(actor=admin).delete()
    return rows
