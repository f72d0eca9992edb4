"""Write side of loyalty: figures and tiers, earned coupons, coupons issued by staff.

Every function runs in ``transaction.atomic`` and is what the admin, the tasks and the shop's
order hook call.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from . import rules
from . import settings as loyalty_settings
from .models import EARNED, BenefitType, Coupon, EarnRule, LoyaltyStatus, Tier, Trigger
from .triggers import TRIGGERS

logger = logging.getLogger(__name__)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CANCELLED = ("cancelled", "refunded")
ADVISORY_LOCK = 510_010  # pg_advisory_xact_lock key of the earning run

REFRESH_SQL = """
INSERT INTO loyalty_loyaltystatus (user_id, tier_id, spend_12m, orders_12m, spend_total,
    orders_total, oldest_in_window_at, last_order_at, computed_at)
SELECT a.user_id,
    (SELECT t.id FROM loyalty_tier t WHERE t.min_spend <= a.spend_12m
        AND t.min_orders <= a.orders_12m ORDER BY t.position DESC LIMIT 1),
    a.spend_12m, a.orders_12m, a.spend_total, a.orders_total, a.oldest, a.last_at, %(now)s
FROM (
    SELECT o.user_id,
        COALESCE(SUM(CASE WHEN o.created_at >= {since} THEN o.total ELSE 0 END), 0)
            AS spend_12m,
        SUM(CASE WHEN o.created_at >= {since} THEN 1 ELSE 0 END) AS orders_12m,
        SUM(o.total) AS spend_total,
        COUNT(*) AS orders_total,
        MIN(CASE WHEN o.created_at >= {since} THEN o.created_at END) AS oldest,
        MAX(o.created_at) AS last_at
    FROM shop_order o {zone_join}
    WHERE o.user_id IS NOT NULL AND o.status NOT IN ('cancelled', 'refunded') {user_filter}
    GROUP BY o.user_id
) a
WHERE true
ON CONFLICT (user_id) DO UPDATE SET tier_id = excluded.tier_id,
    spend_12m = excluded.spend_12m, orders_12m = excluded.orders_12m,
    spend_total = excluded.spend_total, orders_total = excluded.orders_total,
    oldest_in_window_at = excluded.oldest_in_window_at, last_order_at = excluded.last_order_at,
    computed_at = excluded.computed_at
{only_changed}"""

# PostgreSQL: the window starts at local midnight LOYALTY_WINDOW_DAYS days ago in each shopper's
# own zone (their email preferences), else the store's; a zone PostgreSQL does not know counts
# as none. SQLite (the embedded demo) uses the store's zone for everyone.
ZONE_JOIN = """LEFT JOIN {subscriber} s ON s.user_id = o.user_id
    LEFT JOIN (SELECT name FROM pg_timezone_names) z ON z.name = s.time_zone
    CROSS JOIN LATERAL (SELECT {since} AS since) w"""
ZONE_SINCE = """((((%(now)s::timestamptz AT TIME ZONE {zone})::date
    - %(days)s)::timestamp) AT TIME ZONE {zone})"""

# PostgreSQL: rewrite a row only when a figure changed (a re-run writes almost nothing)
ONLY_CHANGED = """WHERE (loyalty_loyaltystatus.tier_id, loyalty_loyaltystatus.spend_12m,
    loyalty_loyaltystatus.orders_12m, loyalty_loyaltystatus.spend_total,
    loyalty_loyaltystatus.orders_total, loyalty_loyaltystatus.oldest_in_window_at,
    loyalty_loyaltystatus.last_order_at) IS DISTINCT FROM (excluded.tier_id, excluded.spend_12m,
    excluded.orders_12m, excluded.spend_total, excluded.orders_total,
    excluded.oldest_in_window_at, excluded.last_order_at)"""

ZERO_SQL = """
UPDATE loyalty_loyaltystatus SET spend_12m = 0, orders_12m = 0, spend_total = 0,
    orders_total = 0, oldest_in_window_at = NULL, last_order_at = NULL, computed_at = %(now)s,
    tier_id = (SELECT t.id FROM loyalty_tier t WHERE t.min_spend <= 0 AND t.min_orders <= 0
        ORDER BY t.position DESC LIMIT 1)
WHERE NOT EXISTS (SELECT 1 FROM shop_order o WHERE o.user_id = loyalty_loyaltystatus.user_id
        AND o.status NOT IN ('cancelled', 'refunded'))
    AND (orders_total <> 0 OR spend_total <> 0 OR tier_id IS NULL) {user_filter}
"""


def loyalty_refresh(*, user_ids: list[int] | None = None, now=None) -> int:
    """Recompute the loyalty figures and tier of ``user_ids`` (None: every shopper) from their
    orders, in two set-based statements. Net spend is the sum of order totals paid (after
    discounts); cancelled and refunded orders do not count. Returns the rows written."""
    now = now or timezone.now()
    days = int(loyalty_settings.get("LOYALTY_WINDOW_DAYS"))
    store_zone = loyalty_settings.zone()
    params = {
        "now": now,
        "since": loyalty_settings.window_start(now, store_zone, days),
        "days": days,
        "store_tz": store_zone.key,
    }
    zone_join, since = "", "%(since)s"
    if connection.vendor == "postgresql":
        from django.apps import apps

        if apps.is_installed("personalization.outreach"):
            subscriber = apps.get_model("outreach", "Subscriber")._meta.db_table
            each = ZONE_SINCE.format(zone="COALESCE(z.name, %(store_tz)s)")
            zone_join, since = ZONE_JOIN.format(subscriber=subscriber, since=each), "w.since"
        else:
            since = ZONE_SINCE.format(zone="%(store_tz)s")
    user_filter = ""
    if user_ids is not None:
        ids = [int(u) for u in user_ids]
        if not ids:
            return 0
        user_filter = f"AND {{col}} IN ({', '.join(str(i) for i in ids)})"
    with transaction.atomic(), connection.cursor() as cursor:
        only_changed = ONLY_CHANGED if connection.vendor == "postgresql" else ""
        cursor.execute(
            REFRESH_SQL.format(
                user_filter=user_filter.format(col="o.user_id"),
                only_changed=only_changed,
                zone_join=zone_join,
                since=since,
            ),
            params,
        )
        written = cursor.rowcount
        cursor.execute(ZERO_SQL.format(user_filter=user_filter.format(col="user_id")), params)
        return written + cursor.rowcount


def loyalty_order_changed(*, order, created: bool) -> None:
    """The shop's order hook: keep the shopper's figures true after an order, a cancellation
    or a refund, and take back unused earned coupons no longer earned (the refund must not
    leave a tier or a reward the shopper no longer earned)."""
    if order.user_id is None:
        return
    loyalty_refresh(user_ids=[order.user_id])
    if not created and order.status in CANCELLED:
        coupon_uses_release(order=order)
        rewards_revoke_unearned(
            user_id=order.user_id,
            because=f"order {order.number} was {order.get_status_display().lower()}",
        )


@transaction.atomic
def coupon_uses_release(*, order, now=None) -> int:
    """Give back the coupon uses ``order`` consumed, once it is cancelled or refunded (issue 10:
    a cancellation or refund must not cost the shopper the coupon; the same rule as a declined
    payment, which rolls the use back).

    Guarantees: each redemption is released at most once, however often this runs or whoever
    runs it concurrently: the redemption row is claimed by a conditional UPDATE
    (``released_at IS NULL``) and only the claimed rows decrement the coupon's ``uses`` and the
    shopper's ``CouponUsage.uses`` (never below 0). Returns how many redemptions were released.
    Coupons withdrawn meanwhile stay withdrawn (a use given back does not revive them).
    """
    from django.db.models import F

    from .models import CouponRedemption, CouponUsage

    now = now or timezone.now()
    claimed = list(
        CouponRedemption.objects.filter(order_id=order.pk, released_at=None)
        .order_by("coupon_id")
        .values_list("pk", "coupon_id", "shopper_key")
    )
    released = 0
    for pk, coupon_id, key in claimed:
        if not CouponRedemption.objects.filter(pk=pk, released_at=None).update(released_at=now):
            continue  # released by a concurrent run
        Coupon.objects.filter(pk=coupon_id, uses__gt=0).update(uses=F("uses") - 1)
        if key:
            CouponUsage.objects.filter(coupon_id=coupon_id, shopper_key=key, uses__gt=0).update(
                uses=F("uses") - 1
            )
        released += 1
    return released


@transaction.atomic
def rewards_revoke_unearned(*, user_id: int, because: str) -> int:
    """Revoke the shopper's unused earned coupons whose trigger no longer holds. Returns how
    many were revoked (each keeps its reason and says why it was withdrawn)."""
    status = LoyaltyStatus.objects.select_related("tier").filter(user_id=user_id).first()
    revoked = 0
    candidates = Coupon.objects.select_for_update().filter(
        owner_id=user_id, trigger__in=EARNED, revoked_at=None, uses=0
    )
    for coupon in candidates:
        trigger = TRIGGERS.get(coupon.trigger)
        if trigger is not None and not trigger.still_earned(coupon, status):
            coupon.revoked_at = timezone.now()
            coupon.revoked_reason = f"no longer earned after {because}"[:255]
            coupon.save(update_fields=["revoked_at", "revoked_reason"])
            revoked += 1
    return revoked


def consent_withdrawn_revoke(*, now=None) -> int:
    """Withdraw unused coupons earned from granted data (the birthday) whose owner no longer
    grants it: such a coupon stands only while the consent it came from stands. Returns how
    many were withdrawn."""
    from django.db.models import OuterRef, Subquery

    from social.models import ConsentRecord

    now = now or timezone.now()
    revoked = 0
    for trigger in TRIGGERS.values():
        if not trigger.consent:
            continue
        latest = (
            ConsentRecord.objects.filter(user=OuterRef("owner_id"), category=trigger.consent)
            .order_by("-id")
            .values("action")[:1]
        )
        withdrawn = (
            Coupon.objects.filter(trigger=trigger.trigger, revoked_at=None, uses=0)
            .annotate(consent=Subquery(latest))
            .exclude(consent=ConsentRecord.Action.GRANTED)
        )
        revoked += Coupon.objects.filter(pk__in=withdrawn.values("pk")).update(
            revoked_at=now,
            revoked_reason=f"you stopped sharing your {trigger.consent} with us",
        )
    return revoked


def zero_value_revoke(*, now=None) -> int:
    """Withdraw the coupons with a percentage or an amount off of zero, which
    ``rules.benefit_problem`` now refuses: issued before that check existed (or written around
    it, straight into the table), such a coupon sits in a shopper's wallet and takes €0.00 off.
    (More than 100 % off or a negative value cannot be stored: ``coupon_benefit_in_range``.)
    Only unrevoked coupons are touched; a redeemed one keeps its history and is withdrawn for
    its remaining uses. Returns how many were withdrawn. Run by ``coupons_issue_earned``."""
    now = now or timezone.now()
    return Coupon.objects.filter(
        benefit_type__in=[BenefitType.PERCENTAGE, BenefitType.FIXED],
        benefit_value__lte=0,
        revoked_at=None,
    ).update(revoked_at=now, revoked_reason="it took nothing off (a coupon issued in error)")


def new_code(prefix: str = "AG", length: int = 8) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return f"{prefix}-{body}" if prefix else body


def _clean_code(code: str) -> str:
    code = "".join(str(code).split()).upper()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_" for c in code):
        raise ValueError("A code is 1 to 40 letters, digits, - or _.")
    return code


@transaction.atomic
def coupon_issue(
    *,
    reason: str,
    benefit_type: str,
    benefit_value: Decimal = Decimal("0"),
    owner=None,
    code: str = "",
    kind: str = "",
    conditions: list[dict] | None = None,
    valid_from=None,
    valid_until=None,
    max_uses: int | None = None,
    max_uses_per_shopper: int | None = 1,
    combinable: bool = False,
    trigger: str = Trigger.STAFF,
    issued_by=None,
    batch: str = "",
) -> Coupon:
    """Create one coupon: a single code for ``owner`` (given by staff) or a shared public code
    (``owner=None``, ``kind="shared"``). ``reason`` is what the shopper reads ("why"), required.
    Raises ValueError (message for staff) on an invalid rule."""
    if not reason.strip():
        raise ValueError("Say why the shopper gets this coupon; they will read it.")
    problem = rules.benefit_problem(benefit_type, benefit_value)
    if problem:
        raise ValueError(problem)
    kind = kind or (Coupon.Kind.SINGLE if owner is not None else Coupon.Kind.SHARED)
    if kind == Coupon.Kind.SINGLE and owner is None:
        raise ValueError("A single code belongs to one shopper: choose the shopper.")
    if kind == Coupon.Kind.SINGLE and max_uses is None:
        max_uses = 1
    coupon = Coupon(
        code=_clean_code(code) if code else new_code(),
        kind=kind,
        owner=owner,
        benefit_type=benefit_type,
        benefit_value=Decimal(benefit_value),
        conditions=rules.clean_conditions(conditions or []),
        valid_from=valid_from or timezone.now(),
        valid_until=valid_until,
        max_uses=max_uses,
        max_uses_per_shopper=max_uses_per_shopper,
        combinable=combinable,
        trigger=trigger,
        reason=reason.strip()[:255],
        issued_by=issued_by,
        batch=batch,
        facts={"issued_by": getattr(issued_by, "pk", None)} if issued_by else {},
    )
    coupon.full_clean(exclude=["owner", "issued_by", "earn_rule"])
    try:
        with transaction.atomic():  # the unique code settles a race between two staff saves
            coupon.save()
    except IntegrityError:
        raise ValueError(f"That code is already in use: {coupon.code}.") from None
    from .hooks import coupons_issued

    coupons_issued(coupon_ids=[coupon.pk])
    return coupon


@transaction.atomic
def coupon_generate_bulk(*, template: Coupon, count: int, prefix: str = "", issued_by=None):
    """``count`` single-use codes with ``template``'s rule (a mailing, a partner's batch).
    Returns the new coupons; their ``batch`` names them together. Raises ValueError (message
    for staff) when ``count`` is out of range or the template's benefit is refused by
    ``rules.benefit_problem`` (a zero-value coupon made before that check)."""
    if not 1 <= count <= 10_000:
        raise ValueError("Generate between 1 and 10,000 codes at a time.")
    problem = rules.benefit_problem(template.benefit_type, template.benefit_value)
    if problem:
        raise ValueError(problem)
    batch = f"{prefix or 'BULK'}-{timezone.now():%Y%m%d%H%M%S}"
    coupons = [
        Coupon(
            code=new_code(prefix or "BULK", 10),
            kind=Coupon.Kind.BULK,
            benefit_type=template.benefit_type,
            benefit_value=template.benefit_value,
            conditions=template.conditions,
            valid_from=template.valid_from,
            valid_until=template.valid_until,
            max_uses=1,
            max_uses_per_shopper=1,
            combinable=template.combinable,
            trigger=Trigger.BULK,
            reason=template.reason,
            batch=batch,
            issued_by=issued_by,
        )
        for _ in range(count)
    ]
    return Coupon.objects.bulk_create(coupons)


@transaction.atomic
def coupon_revoke(*, coupon_id: int, reason: str) -> Coupon:
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    if coupon.revoked_at is None:
        coupon.revoked_at = timezone.now()
        coupon.revoked_reason = reason[:255]
        coupon.save(update_fields=["revoked_at", "revoked_reason"])
    return coupon


@dataclass
class EarnResult:
    candidates: int
    issued: int
    held_by_cap: int
    skipped_rules: list[str]
    seconds: float


def coupons_issue_earned(*, now=None, refresh: bool = True) -> EarnResult:
    """Evaluate every active earn rule for every shopper and issue what is due.

    Guarantees: at most one coupon per (shopper, trigger, occasion), by the unique constraint
    (``INSERT ... ON CONFLICT DO NOTHING``), however often this runs or is retried; at most
    ``LOYALTY_MAX_EARNED_PER_30_DAYS`` earned coupons per shopper in any 30 days (runs are
    serialized by a transaction-level advisory lock on PostgreSQL, so two runs cannot both
    fill the same gap), a shopper's occasions admitted in rule order (``EarnRule`` ordering);
    triggers whose data source is not in ``LOYALTY_ALLOWED_SOURCES`` are skipped; a rule whose
    benefit ``rules.benefit_problem`` refuses (a zero-value percentage or amount off saved
    before that check, say) is skipped and logged, never issued; the birthday trigger reads
    only shoppers whose birthday consent stands. ``skipped_rules`` names the skipped rules.

    On PostgreSQL every trigger, the cap and the codes are set-based SQL (``earning.py``);
    SQLite (the embedded demo) runs the same rules in Python. ``candidates`` in the result
    counts the (shopper, trigger, occasion) found that were not issued before.
    """
    started = time.perf_counter()
    phases: dict[str, float] = {}  # seconds per phase, for the log line
    mark = [started]

    def lap(name):
        now_ = time.perf_counter()
        phases[name] = round(now_ - mark[0], 3)
        mark[0] = now_

    now = now or timezone.now()
    allowed = set(loyalty_settings.get("LOYALTY_ALLOWED_SOURCES"))
    cap = int(loyalty_settings.get("LOYALTY_MAX_EARNED_PER_30_DAYS"))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        if refresh:
            loyalty_refresh(now=now)
        consent_withdrawn_revoke(now=now)
        zero_value_revoke(now=now)
        lap("refresh")
        skipped, active = [], []
        for rule in EarnRule.objects.filter(is_active=True).select_related("tier"):
            trigger = TRIGGERS.get(rule.trigger)
            problem = rules.benefit_problem(rule.benefit_type, rule.benefit_value)
            if problem:  # saved before the check existed (or written around it): never issue
                logger.warning("loyalty earn rule %s (%r) skipped: %s", rule.pk, rule.name, problem)
                skipped.append(rule.name)
            elif trigger is None or trigger.source not in allowed:
                skipped.append(rule.name)
            else:
                active.append((rule, trigger))
        if connection.vendor == "postgresql":
            from .earning import issue_earned

            done = issue_earned(rules=active, now=now, cap=cap)
            candidates, held, issued_ids = done.candidates, done.held_by_cap, done.coupon_ids
        else:
            candidates, held, issued_ids = _issue_earned_python(active, now=now, cap=cap)
        lap("issue")
        if issued_ids:
            from .hooks import coupons_issued

            coupons_issued(coupon_ids=issued_ids)
        lap("hooks")
    lap("commit")
    logger.info(
        "loyalty earn run: %s issued in %.3f s (%s)",
        len(issued_ids),
        time.perf_counter() - started,
        ", ".join(f"{name} {seconds:.3f} s" for name, seconds in phases.items()),
    )
    return EarnResult(candidates, len(issued_ids), held, skipped, time.perf_counter() - started)


def _issue_earned_python(active, *, now, cap) -> tuple[int, int, list[int]]:
    """SQLite: the triggers' Python candidates, the cap counted in Python, a bulk insert.
    Returns (fresh candidates, held by the cap, new coupon ids)."""
    found = [(rule, c) for rule, trigger in active for c in trigger.candidates(rule, now=now)]
    if not found:
        return 0, 0, []
    # occasions already issued: drop them before counting against the cap (the unique
    # constraint still decides; this only keeps the cap's count honest)
    existing = set(
        Coupon.objects.filter(trigger__in=EARNED)
        .exclude(occasion="")
        .values_list("owner_id", "trigger", "occasion")
    )
    recent = dict(
        Coupon.objects.filter(trigger__in=EARNED, created_at__gte=now - timedelta(days=30))
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    admitted, held, seen = [], 0, set()
    for rule, c in found:
        key = (c.user_id, rule.trigger, c.occasion[:120])
        if key in existing or key in seen:
            continue
        seen.add(key)
        if recent.get(c.user_id, 0) >= cap:
            held += 1
            continue
        recent[c.user_id] = recent.get(c.user_id, 0) + 1
        admitted.append((rule, c))
    Coupon.objects.bulk_create(
        [_earned_coupon(rule, c, now) for rule, c in admitted],
        ignore_conflicts=True,
        batch_size=2000,
    )
    issued_ids = list(
        Coupon.objects.filter(trigger__in=EARNED, created_at=now).values_list("pk", flat=True)
    )
    return len(seen), held, issued_ids


def _earned_coupon(rule: EarnRule, candidate, now) -> Coupon:
    conditions = list(candidate.conditions)
    if rule.min_subtotal:
        conditions.append({"type": "min_subtotal", "amount": str(rule.min_subtotal)})
    return Coupon(
        code=new_code("TY", 8),
        kind=Coupon.Kind.SINGLE,
        owner_id=candidate.user_id,
        benefit_type=rule.benefit_type,
        benefit_value=rule.benefit_value,
        conditions=conditions,
        valid_from=now,
        valid_until=now + timedelta(days=rule.valid_days),
        max_uses=1,
        max_uses_per_shopper=1,
        combinable=rule.combinable,
        trigger=rule.trigger,
        occasion=candidate.occasion[:120],
        earn_rule=rule,
        reason=candidate.reason[:255],
        facts={**candidate.facts, "rule": rule.pk, "rule_name": rule.name},
        created_at=now,
    )


def tiers_ensure_defaults() -> int:
    """Bronze, Silver, Gold if no tier exists (the demo and a fresh shop). Returns created."""
    if Tier.objects.exists():
        return 0
    Tier.objects.bulk_create(
        [
            Tier(name="Bronze", slug="bronze", position=1, benefits="Member offers by email."),
            Tier(
                name="Silver",
                slug="silver",
                position=2,
                min_spend=Decimal("250.00"),
                min_orders=3,
                benefits="Free standard shipping codes and early access to sales.",
            ),
            Tier(
                name="Gold",
                slug="gold",
                position=3,
                min_spend=Decimal("750.00"),
                min_orders=6,
                benefits="15% off once a season and a birthday treat.",
            ),
        ]
    )
    return 3


def coupon_issue_staff(*, data=None, form=None, issued_by=None) -> Coupon:
    """Issue a coupon by hand from staff input, with the admin's rules (``CouponForm``), then
    ``coupon_issue``: the one path of the API and the admin's add page.

    ``data`` holds the form's fields: ``reason``, ``benefit_type``, ``benefit_value``,
    ``owner`` (a user id; required for a single code), ``code`` (empty: generated), ``kind``,
    ``valid_from``/``valid_until`` (ISO 8601), ``max_uses``, ``max_uses_per_shopper``,
    ``combinable`` and the rule: ``min_subtotal``, ``categories``/``products`` (id lists),
    ``first_order``, ``min_tier`` (a tier id). ``form`` instead: a bound ``CouponForm`` (or
    subclass, as the admin's) that is valid already; its cleaned values are used. Raises
    ``django.core.exceptions.ValidationError`` with a dict of field -> messages on bad input;
    nothing is saved then.
    """
    from django.core.exceptions import ValidationError

    from .forms import CouponForm

    form = form if form is not None else CouponForm(data=data)
    if not form.is_valid():
        raise ValidationError(
            {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        )
    values = form.cleaned_data
    try:
        return coupon_issue(
            reason=values["reason"],
            benefit_type=values["benefit_type"],
            benefit_value=values["benefit_value"],
            owner=values.get("owner"),
            code=values.get("code") or "",
            kind=values.get("kind") or "",
            conditions=values["conditions"],
            valid_from=values.get("valid_from"),
            valid_until=values.get("valid_until"),
            max_uses=values.get("max_uses"),
            max_uses_per_shopper=values.get("max_uses_per_shopper"),
            combinable=values.get("combinable", False),
            issued_by=issued_by,
        )
    except ValueError as error:
        field = "code" if "code is" in str(error) else "__all__"
        raise ValidationError({field: [str(error)]}) from None
