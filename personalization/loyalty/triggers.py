"""Earning triggers: one small class per trigger type, chosen by ``EarnRule.trigger``.

Each class finds, in one set-based query, the shoppers an active rule applies to right now and
the *occasion* (``order:5``, ``tier:gold``, ``birthday:2026``, ``win-back:<last order date>``,
``replacement:review:<id>:<category>``). ``coupons_issue_earned`` (services) then inserts one
coupon per (shopper, trigger, occasion) with ``ON CONFLICT DO NOTHING`` on the unique
constraint, so a trigger issues at most once per shopper and occasion however often it runs.

``source`` says where the data comes from: ``store`` (orders), ``own_text`` (the shopper's own
reviews and posts), ``granted`` (demographic data the shopper granted on the permission screen,
used only while the grant stands, ``consent`` names the category). Settings
``LOYALTY_ALLOWED_SOURCES`` lists the sources triggers may use (first-party only by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Q, Subquery

from shop.templatetags.shop_tags import money

from .models import EarnRule, LoyaltyStatus, Trigger


@dataclass
class Candidate:
    user_id: int
    occasion: str
    reason: str
    facts: dict = field(default_factory=dict)
    conditions: list = field(default_factory=list)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def not_issued(statuses, *, trigger: str, occasion: str):
    """Leave out shoppers who already hold this occasion (the re-run then reads almost nothing;
    the unique constraint still decides)."""
    from django.db.models import Exists

    from .models import Coupon

    issued = Coupon.objects.filter(owner=OuterRef("user_id"), trigger=trigger, occasion=occasion)
    return statuses.exclude(Exists(issued))


class TriggerType:
    trigger = ""
    source = "store"
    consent: str | None = None

    def candidates(self, rule: EarnRule, *, now) -> list[Candidate]:
        raise NotImplementedError  # every trigger finds its shoppers

    def still_earned(self, coupon, status: LoyaltyStatus | None) -> bool:
        """After a cancellation or refund: is an unused coupon of this trigger still earned?"""
        return True


class TierReached(TriggerType):
    trigger = Trigger.TIER_REACHED

    def candidates(self, rule, *, now):
        if rule.tier is None:
            return []
        tier = rule.tier
        rows = not_issued(
            LoyaltyStatus.objects.filter(tier__position__gte=tier.position),
            trigger=self.trigger,
            occasion=f"tier:{tier.slug}",
        ).values_list("user_id", flat=True)
        return [
            Candidate(
                user_id,
                f"tier:{tier.slug}",
                f"Because you reached {tier.name}",
                {"tier": tier.slug, "tier_position": tier.position},
            )
            for user_id in rows.iterator(5000)
        ]

    def still_earned(self, coupon, status):
        position = coupon.facts.get("tier_position", 0)
        return status is not None and status.tier is not None and status.tier.position >= position


class NthOrder(TriggerType):
    trigger = Trigger.NTH_ORDER

    def candidates(self, rule, *, now):
        n = int(rule.threshold)
        if n < 1:
            return []
        rows = not_issued(
            LoyaltyStatus.objects.filter(orders_total__gte=n),
            trigger=self.trigger,
            occasion=f"order:{n}",
        ).values_list("user_id", "orders_total")
        return [
            Candidate(
                user_id,
                f"order:{n}",
                f"Because this is your {ordinal(n)} order"
                if total == n
                else f"Because you have placed {n} orders with us",
                {"orders": total, "n": n},
            )
            for user_id, total in rows.iterator(5000)
        ]

    def still_earned(self, coupon, status):
        return status is not None and status.orders_total >= coupon.facts.get("n", 0)


class SpendThreshold(TriggerType):
    trigger = Trigger.SPEND_THRESHOLD

    def candidates(self, rule, *, now):
        amount = rule.threshold
        if amount <= 0:
            return []
        rows = not_issued(
            LoyaltyStatus.objects.filter(spend_total__gte=amount),
            trigger=self.trigger,
            occasion=f"spend:{amount}",
        ).values_list("user_id", flat=True)
        words = f"Because you have spent {money(amount)} with us"
        return [
            Candidate(user_id, f"spend:{amount}", words, {"threshold": str(amount)})
            for user_id in rows.iterator(5000)
        ]

    def still_earned(self, coupon, status):
        threshold = Decimal(coupon.facts.get("threshold", "0"))
        return status is not None and status.spend_total >= threshold


class Birthday(TriggerType):
    """Birthdays within ``threshold`` days (default 7) from today, where "today" is the date in
    the shopper's own time zone (their email preferences; else the store's,
    ``LOYALTY_TIME_ZONE``), only for shoppers whose latest birthday consent is a grant.

    The SQL reads the birthdays of a day wider on each side than the store's range (every zone
    is within a day of UTC's date); each candidate is then checked against their own date."""

    trigger = Trigger.BIRTHDAY
    source = "granted"
    consent = "birthday"

    def candidates(self, rule, *, now):
        from social.models import ConsentRecord, SocialProfile

        from .settings import local_today, shopper_zones, zone

        days = max(0, int(rule.threshold or 7))
        store_today = local_today(now)
        wide = [store_today + timedelta(days=d) for d in range(-1, days + 2)]
        on_day = Q()
        for day in wide:
            on_day |= Q(birthday_month=day.month, birthday_day=day.day)
        latest = (
            ConsentRecord.objects.filter(user=OuterRef("user_id"), category=self.consent)
            .order_by("-id")
            .values("action")[:1]
        )
        rows = list(
            SocialProfile.objects.filter(on_day)
            .annotate(consent=Subquery(latest))
            .filter(consent=ConsentRecord.Action.GRANTED)
            .values_list("user_id", "birthday_month", "birthday_day")
            .iterator(5000)
        )
        zones = shopper_zones(user_id for user_id, _, _ in rows)
        store_zone = zone()
        result = []
        for user_id, month, day in rows:
            today = now.astimezone(zones.get(user_id, store_zone)).date()
            dates = [today + timedelta(days=d) for d in range(days + 1)]
            year = next((d.year for d in dates if (d.month, d.day) == (month, day)), None)
            if year is None:
                continue
            result.append(
                Candidate(
                    user_id,
                    f"birthday:{year}",
                    "Happy birthday! You shared your birthday with us, so here is a treat",
                    {"consent": "birthday", "year": year},
                )
            )
        return result


class WinBack(TriggerType):
    """Shoppers whose last order is at least ``threshold`` days old (default 90); once per lapse
    (the occasion is the last order's date, so a new order and a new lapse earn again)."""

    trigger = Trigger.WIN_BACK

    def candidates(self, rule, *, now):
        days = max(1, int(rule.threshold or 90))
        rows = LoyaltyStatus.objects.filter(
            last_order_at__lte=now - timedelta(days=days)
        ).values_list("user_id", "last_order_at")
        result = []
        for user_id, last in rows.iterator(5000):
            months = (now - last).days // 30
            since = f"{months} months" if months >= 2 else f"{(now - last).days} days"
            result.append(
                Candidate(
                    user_id,
                    f"win-back:{last:%Y-%m-%d}",
                    f"We miss you: it has been {since} since your last order",
                    {"last_order_at": last.isoformat(), "days": days},
                )
            )
        return result


class ReplacementIntent(TriggerType):
    """A replacement intent ("my blender broke") found by social.textsignals in the shopper's
    own review or forum post of the last ``threshold`` days (default 30): an offer on that
    category, once per text and category."""

    trigger = Trigger.REPLACEMENT_INTENT
    source = "own_text"

    def candidates(self, rule, *, now):
        from social.forums.models import Post
        from social.reviews.models import Review

        days = max(1, int(rule.threshold or 30))
        since = now - timedelta(days=days)
        sources = [
            ("review", Review.objects.exclude(status=Review.Status.REJECTED)),
            ("forum post", Post.objects.filter(is_deleted=False, is_hidden=False)),
        ]
        result = []
        for word, queryset in sources:
            queryset = queryset.filter(created_at__gte=since).exclude(intents=[])
            if connection.vendor == "postgresql":
                queryset = queryset.filter(intents__contains=[{"intent": "replacement"}])
            for pk, author_id, intents in queryset.values_list("pk", "author_id", "intents"):
                seen = set()
                for match in intents or []:
                    if match.get("intent") != "replacement" or match["category_id"] in seen:
                        continue
                    seen.add(match["category_id"])
                    quote = str(match.get("matched") or "").strip()
                    phrase = str(match.get("phrase") or "")
                    thing = quote[len(phrase) :].strip() if quote.startswith(phrase) else ""
                    thing = (thing.split() or [""])[-1] or match.get("category", "").lower()
                    result.append(
                        Candidate(
                            author_id,
                            f"replacement:{word.split()[0]}:{pk}:{match['category_id']}",
                            f'We read in your {word} that you need a new {thing} ("{quote}")',
                            {"source": word, "object_id": pk, "match": match},
                            conditions=[
                                {
                                    "type": "categories",
                                    "ids": [match["category_id"]],
                                    "names": [match.get("category", "")],
                                }
                            ],
                        )
                    )
        return result


TRIGGERS: dict[str, TriggerType] = {}


def register_trigger(cls: type[TriggerType]) -> type[TriggerType]:
    TRIGGERS[str(cls.trigger)] = cls()
    return cls


for _cls in (TierReached, NthOrder, SpendThreshold, Birthday, WinBack, ReplacementIntent):
    register_trigger(_cls)
