"""Write side of the recommendations: the set-based refresh and the decision rows."""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from . import conf, sql
from .models import PickDecision, ProductPair, ProductPopularity


@transaction.atomic
def recommendation_data_refresh() -> dict:
    """Rebuild ``ProductPair`` and ``ProductPopularity`` from the event log in one transaction.

    Two INSERT ... SELECT statements (see ``recommendations.sql``); readers see the old rows
    until the commit. Idempotent: running it twice gives the same rows. Returns
    ``{"pairs": n, "products": n}``. The shared caches (popular list, "also bought") are
    forgotten after commit.
    """
    pair_weights = conf.get("RECOMMENDATIONS_PAIR_WEIGHTS")
    popularity = conf.get("RECOMMENDATIONS_POPULARITY_WEIGHTS")
    since = timezone.now() - timedelta(days=int(conf.get("RECOMMENDATIONS_POPULARITY_DAYS")))
    ProductPair.objects.all().delete()
    ProductPopularity.objects.all().delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            sql.PAIRS,
            {
                "true": True,
                "false": False,
                "per_user": int(conf.get("RECOMMENDATIONS_ITEMS_PER_SHOPPER")),
                "per_product": int(conf.get("RECOMMENDATIONS_PAIRS_PER_PRODUCT")),
                "purchase_weight": float(pair_weights.get("purchase", 1.0)),
                "like_weight": float(pair_weights.get("like", 0.5)),
            },
        )
        pairs = cursor.rowcount
        cursor.execute(
            sql.POPULARITY,
            {
                "true": True,
                "since": connection.ops.adapt_datetimefield_value(since),
                "purchase_weight": float(popularity.get("purchase", 5.0)),
                "like_weight": float(popularity.get("like", 2.0)),
                "view_weight": float(popularity.get("view", 0.2)),
                "rating_weight": float(popularity.get("rating", 0.1)),
            },
        )
        products = cursor.rowcount
    from .selectors import shared_cache_forget

    transaction.on_commit(shared_cache_forget)
    return {"pairs": pairs, "products": products}


def pick_decision_record(
    *, user_id: int, mode: str, strategy: str, picks: list[dict], data_used: list[str]
) -> PickDecision:
    """Store the picks chosen for a shopper and the reason of each, at the moment of choosing.

    ``picks`` is the list described on ``PickDecision.picks``. One INSERT; it runs on the cold
    path only (when the shopper's cached picks are rebuilt), never on a warm page.
    """
    return PickDecision.objects.create(
        user_id=user_id, mode=mode, strategy=strategy, picks=picks, data_used=data_used
    )


def pick_decisions_purge() -> int:
    """Delete decisions older than RECOMMENDATIONS_DECISION_RETENTION_DAYS, keeping each
    shopper's latest one (so "why" can always answer for what is on screen)."""
    days = int(conf.get("RECOMMENDATIONS_DECISION_RETENTION_DAYS"))
    cutoff = timezone.now() - timedelta(days=days)
    keep = PickDecision.objects.values("user_id").annotate(top=Max("pk")).values("top")
    deleted, _ = PickDecision.objects.filter(decided_at__lt=cutoff).exclude(pk__in=keep).delete()
    return deleted
