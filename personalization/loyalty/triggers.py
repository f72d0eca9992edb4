"""Earning triggers: one small class per trigger type, chosen by ``EarnRule.trigger``.

Each class finds, in one set-based query, the shoppers an active rule applies to right now and
the *occasion* (``order:5``, ``tier:gold``, ``birthday:2026``, ``win-back:<last order date>``,
``replacement:review:<id>:<category>``). ``coupons_issue_earned`` (services) then inserts one
coupon per (shopper, trigger, occasion) with ``ON CONFLICT DO NOTHING`` on the unique
constraint, so a trigger issues at most once per shopper and occasion however often it runs.

Each class says it twice: ``select`` is one PostgreSQL ``SELECT`` the earning run turns into
coupons without a Python loop over shoppers (``earning.py``); ``candidates`` is the same rule
in the ORM and Python, used on SQLite (the embedded demo) and by any trigger without SQL. A
contract test holds both to the same shoppers, occasions, reasons and conditions.

``source`` says where the data comes from: ``store`` (orders), ``own_text`` (the shopper's own
reviews and posts), ``granted`` (demographic data the shopper granted on the permission screen,
used only while the grant stands, ``consent`` names the category). Settings
``LOYALTY_ALLOWED_SOURCES`` lists the sources triggers may use (first-party only by default).
"""

from __future__ import annotations

import json
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


def placed(n: int) -> str:
    """The reason of an Nth-order coupon given to a shopper already past their Nth order."""
    return f"Because you have placed {n} order{'' if n == 1 else 's'} with us"


def not_issued(statuses, *, trigger: str, occasion: str):
    """Leave out shoppers who already hold this occasion (the re-run then reads almost nothing;
    the unique constraint still decides)."""
    from django.db.models import Exists

    from .models import Coupon

    issued = Coupon.objects.filter(owner=OuterRef("user_id"), trigger=trigger, occasion=occasion)
    return statuses.exclude(Exists(issued))


# a SELECT of no candidate, with the columns ``TriggerType.select`` promises
NOTHING = """SELECT NULL::bigint AS owner_id, ''::text AS occasion, ''::text AS reason,
    '{}'::jsonb AS facts, '[]'::jsonb AS conditions WHERE false"""


def _utc_iso(moment) -> str:
    """``2026-03-08T23:30:00.000000+00:00`` (what the SQL of a trigger writes too)."""
    from datetime import UTC

    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _status_table() -> str:
    return _table(LoyaltyStatus)


class TriggerType:
    trigger = ""
    source = "store"
    consent: str | None = None

    def candidates(self, rule: EarnRule, *, now) -> list[Candidate]:
        raise NotImplementedError  # every trigger finds its shoppers

    def select(self, rule: EarnRule, *, now) -> tuple[str, dict] | None:
        """PostgreSQL: ``(sql, params)`` of one ``SELECT`` giving the rows ``candidates``
        gives, as columns ``owner_id`` (int), ``occasion`` (text), ``reason`` (text),
        ``facts`` (jsonb object) and ``conditions`` (jsonb list). Params are named
        (``%(name)s``) and must not start with ``_`` (the caller's). None: no SQL (the run
        then copies ``candidates`` in). Shoppers already holding the occasion may be included:
        the caller leaves them out."""
        return None

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

    def select(self, rule, *, now):
        if rule.tier is None:
            return NOTHING, {}
        tier = rule.tier
        sql = f"""SELECT s.user_id AS owner_id, %(occasion)s AS occasion, %(reason)s AS reason,
            %(facts)s::jsonb AS facts, '[]'::jsonb AS conditions
            FROM {_status_table()} s JOIN {_table(type(tier))} t ON t.id = s.tier_id
            WHERE t.position >= %(position)s"""  # noqa: S608
        return sql, {
            "occasion": f"tier:{tier.slug}",
            "reason": f"Because you reached {tier.name}",
            "facts": json.dumps({"tier": tier.slug, "tier_position": tier.position}),
            "position": tier.position,
        }

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
                f"Because this is your {ordinal(n)} order" if total == n else placed(n),
                {"orders": total, "n": n},
            )
            for user_id, total in rows.iterator(5000)
        ]

    def select(self, rule, *, now):
        n = int(rule.threshold)
        if n < 1:
            return NOTHING, {}
        sql = f"""SELECT s.user_id AS owner_id, %(occasion)s AS occasion,
            CASE WHEN s.orders_total = %(n)s THEN %(exact)s ELSE %(more)s END AS reason,
            jsonb_build_object('orders', s.orders_total, 'n', %(n)s) AS facts,
            '[]'::jsonb AS conditions
            FROM {_status_table()} s WHERE s.orders_total >= %(n)s"""  # noqa: S608
        return sql, {
            "n": n,
            "occasion": f"order:{n}",
            "exact": f"Because this is your {ordinal(n)} order",
            "more": placed(n),
        }

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

    def select(self, rule, *, now):
        amount = rule.threshold
        if amount <= 0:
            return NOTHING, {}
        sql = f"""SELECT s.user_id AS owner_id, %(occasion)s AS occasion, %(reason)s AS reason,
            %(facts)s::jsonb AS facts, '[]'::jsonb AS conditions
            FROM {_status_table()} s WHERE s.spend_total >= %(amount)s"""  # noqa: S608
        return sql, {
            "amount": amount,
            "occasion": f"spend:{amount}",
            "reason": f"Because you have spent {money(amount)} with us",
            "facts": json.dumps({"threshold": str(amount)}),
        }

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

    def select(self, rule, *, now):
        from django.apps import apps

        from social.models import ConsentRecord, SocialProfile

        from .settings import local_today, zone

        days = max(0, int(rule.threshold or 7))
        store_today = local_today(now)
        wide = {store_today + timedelta(days=d) for d in range(-1, days + 2)}
        local, zone_join = "%(store_tz)s", ""
        if apps.is_installed("personalization.outreach"):
            # the shopper's own zone when PostgreSQL knows it (as ``settings.shopper_zones``)
            subscriber = _table(apps.get_model("outreach", "Subscriber"))
            local = "COALESCE(z.name, %(store_tz)s)"
            zone_join = f"""LEFT JOIN {subscriber} sub ON sub.user_id = p.user_id
                LEFT JOIN (SELECT name FROM pg_timezone_names) z ON z.name = sub.time_zone"""  # noqa: S608
        sql = f"""SELECT p.user_id AS owner_id, 'birthday:' || b.year AS occasion,
            %(reason)s AS reason, jsonb_build_object('consent', %(consent)s, 'year', b.year)
            AS facts, '[]'::jsonb AS conditions
            FROM {_table(SocialProfile)} p {zone_join}
            CROSS JOIN LATERAL (SELECT (%(now)s::timestamptz AT TIME ZONE {local})::date AS day) t
            CROSS JOIN LATERAL (
                SELECT extract(year FROM d)::int AS year
                FROM generate_series(t.day::timestamp, (t.day + %(days)s)::timestamp,
                    interval '1 day') d
                WHERE extract(month FROM d) = p.birthday_month
                    AND extract(day FROM d) = p.birthday_day
                ORDER BY d LIMIT 1) b
            WHERE p.birthday_month * 100 + p.birthday_day = ANY(%(wide)s)
                AND (SELECT c.action FROM {_table(ConsentRecord)} c WHERE c.user_id = p.user_id
                    AND c.category = %(consent)s ORDER BY c.id DESC LIMIT 1) = %(granted)s"""  # noqa: S608
        return sql, {
            "reason": "Happy birthday! You shared your birthday with us, so here is a treat",
            "consent": self.consent,
            "store_tz": zone().key,
            "now": now,
            "days": days,
            "wide": sorted(d.month * 100 + d.day for d in wide),
            "granted": ConsentRecord.Action.GRANTED.value,
        }


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
                    {"last_order_at": _utc_iso(last), "days": days},
                )
            )
        return result

    def select(self, rule, *, now):
        days = max(1, int(rule.threshold or 90))
        sql = f"""SELECT s.user_id AS owner_id,
            'win-back:' || to_char(s.last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS occasion,
            'We miss you: it has been ' || CASE WHEN d.days / 30 >= 2
                THEN (d.days / 30) || ' months' ELSE d.days || ' days' END
                || ' since your last order' AS reason,
            jsonb_build_object('last_order_at', to_char(s.last_order_at AT TIME ZONE 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), 'days', %(days)s) AS facts,
            '[]'::jsonb AS conditions
            FROM {_status_table()} s CROSS JOIN LATERAL (SELECT floor(extract(epoch FROM
                %(now)s::timestamptz - s.last_order_at) / 86400)::int AS days) d
            WHERE s.last_order_at <= %(cutoff)s"""  # noqa: S608
        return sql, {"days": days, "now": now, "cutoff": now - timedelta(days=days)}


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

    def select(self, rule, *, now):
        from social.forums.models import Post
        from social.reviews.models import Review

        days = max(1, int(rule.threshold or 30))
        wanted = 'intents @> \'[{"intent": "replacement"}]\'::jsonb'
        sql = f"""SELECT t.author_id AS owner_id,
            'replacement:' || split_part(t.word, ' ', 1) || ':' || t.pk || ':'
                || (m.match->>'category_id') AS occasion,
            'We read in your ' || t.word || ' that you need a new '
                || COALESCE(NULLIF(substring(r.rest FROM '(\\S+)\\s*$'), ''),
                    lower(COALESCE(m.match->>'category', '')))
                || ' ("' || q.quote || '")' AS reason,
            jsonb_build_object('source', t.word, 'object_id', t.pk, 'match', m.match) AS facts,
            jsonb_build_array(jsonb_build_object('type', 'categories',
                'ids', jsonb_build_array(m.match->'category_id'),
                'names', jsonb_build_array(COALESCE(m.match->'category', '""'::jsonb))))
                AS conditions
            FROM (
                SELECT 'review' AS word, id AS pk, author_id, intents FROM {_table(Review)}
                WHERE status <> %(rejected)s AND created_at >= %(since)s AND {wanted}
                UNION ALL
                SELECT 'forum post', id, author_id, intents FROM {_table(Post)}
                WHERE NOT is_deleted AND NOT is_hidden AND created_at >= %(since)s
                    AND {wanted}
            ) t
            CROSS JOIN LATERAL (
                SELECT DISTINCT ON (e.value->'category_id') e.value AS match
                FROM jsonb_array_elements(t.intents) WITH ORDINALITY e(value, n)
                WHERE e.value->>'intent' = 'replacement'
                ORDER BY e.value->'category_id', e.n) m
            CROSS JOIN LATERAL (SELECT regexp_replace(COALESCE(m.match->>'matched', ''),
                '^\\s+|\\s+$', '', 'g') AS quote) q
            CROSS JOIN LATERAL (SELECT CASE
                WHEN starts_with(q.quote, COALESCE(m.match->>'phrase', ''))
                THEN substring(q.quote FROM length(COALESCE(m.match->>'phrase', '')) + 1)
                ELSE '' END AS rest) r"""  # noqa: S608
        return sql, {
            "rejected": Review.Status.REJECTED.value,
            "since": now - timedelta(days=days),
        }


TRIGGERS: dict[str, TriggerType] = {}


def register_trigger(cls: type[TriggerType]) -> type[TriggerType]:
    TRIGGERS[str(cls.trigger)] = cls()
    return cls


for _cls in (TierReached, NthOrder, SpendThreshold, Birthday, WinBack, ReplacementIntent):
    register_trigger(_cls)
