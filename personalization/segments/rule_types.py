"""The built-in segment rules over the preference profile and the customer record.

Each class says what it matches in ``compile`` (a Q over the user model) and ``evaluate`` (the
same in Python); ``personalization.segments.rules`` explains the contract.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import BooleanField, F, Func, Q, Sum

from .rules import Rule as _Rule
from .rules import (
    RuleError,
    clean_number,
    clean_range,
    consent_granted_q,
    env,
    in_range,
    profile_q,
    range_lookups,
    range_words,
    register,
)

DIMENSIONS = ("category", "brand", "colour", "size", "style", "price_band")
DIMENSION_WORDS = {
    "category": "look at",
    "brand": "choose",
    "colour": "pick",
    "size": "choose size",
    "style": "go for",
    "price_band": "shop in the price range",
}


def _days(params, key, *, required=True):
    return clean_number(params, key, required=required, minimum=0, maximum=36500, integer=True)


@register
class NewShopperRule(_Rule):
    type = "new_shopper"
    label = "New shopper"
    help = '{"days": 30}: joined the store in the last N days (needs no profile).'
    needs_profile = False

    def clean(self, params):
        return {"days": _days(params, "days")}

    def compile(self, params):
        return Q(date_joined__gte=env().now - timedelta(days=params["days"]))

    def evaluate(self, ctx, params):
        return ctx.user.date_joined >= ctx.env.now - timedelta(days=params["days"])

    def explain(self, params):
        return f"You joined us in the last {params['days']} days"


@register
class AffinityRule(_Rule):
    type = "affinity"
    label = "Affinity"
    help = (
        '{"dimension": "category", "value": "outdoor", "min_score": 2}: the decayed affinity for '
        "a category or brand (id or slug), colour, size, style or price band (budget, mid, "
        "premium) is at least min_score (one purchase today scores 10, a view 1)."
    )

    def clean(self, params):
        dimension = params.get("dimension")
        if dimension not in DIMENSIONS:
            raise RuleError(f"'dimension' must be one of {', '.join(DIMENSIONS)}.")
        value = str(params.get("value") or "").strip()
        if not value:
            raise RuleError("'value' is required.")
        if dimension in ("category", "brand"):
            value = str(self._resolve(dimension, value))
        elif dimension == "price_band":
            from shop.models import Product

            bands = [v for v, _ in Product.PriceBand.choices]
            if value.lower() not in bands:
                raise RuleError(f"'value' must be one of {', '.join(bands)}.")
            value = value.lower()
        else:
            value = value.lower()[:60]
        score = clean_number(params, "min_score", minimum=0, maximum=10**9)
        if score is None:
            score = Decimal(1)
        if score <= 0:
            raise RuleError("'min_score' must be above 0.")
        return {"dimension": dimension, "value": value, "min_score": str(score)}

    @staticmethod
    def _resolve(dimension, value) -> int:
        from shop.models import Brand, Category

        model = Category if dimension == "category" else Brand
        found = (
            model.objects.filter(pk=int(value)).first()
            if value.isdigit()
            else model.objects.filter(slug=value.lower()).first()
        )
        if found is None:
            raise RuleError(f"there is no {dimension} {value!r}.")
        return found.pk

    def _raw_threshold(self, params) -> float:
        from personalization.building import decay_factor

        return float(params["min_score"]) / decay_factor(env().now)

    def compile(self, params):
        key = f"{params['dimension']}:{params['value']}"
        return profile_q(_AffinityAtLeast(key=key, raw=self._raw_threshold(params)), full=True)

    def evaluate(self, ctx, params):
        if ctx.profile is None:
            return False
        raw = (ctx.profile.affinities or {}).get(f"{params['dimension']}:{params['value']}")
        return isinstance(raw, int | float) and float(raw) >= self._raw_threshold(params)

    def explain(self, params):
        label = _dimension_label(params["dimension"], params["value"])
        return f"You often {DIMENSION_WORDS[params['dimension']]} {label}"


def _dimension_label(dimension, value) -> str:
    from shop.models import Brand, Category, Product

    if dimension in ("category", "brand"):
        model = Category if dimension == "category" else Brand
        name = model.objects.filter(pk=int(value)).values_list("name", flat=True).first()
        return name or value
    if dimension == "price_band":
        return dict(Product.PriceBand.choices).get(value, value).lower()
    return value.upper() if dimension == "size" else value


class _ProfileRangeRule(_Rule):
    field_name = ""
    integer = False
    money = False
    unit = ""

    def clean(self, params):
        return clean_range(params, integer=self.integer, minimum=0)

    def compile(self, params):
        return profile_q(**range_lookups(self.field_name, params))

    def evaluate(self, ctx, params):
        if ctx.profile is None:
            return False
        return in_range(getattr(ctx.profile, self.field_name), params)


@register
class FrequencyRule(_ProfileRangeRule):
    type = "frequency"
    label = "Frequency (orders)"
    help = '{"min": 3, "max": 10}: number of orders (RFM frequency).'
    field_name = "order_count"
    integer = True

    def explain(self, params):
        return f"You have placed {range_words(params)} orders with us"


@register
class MonetaryRule(_ProfileRangeRule):
    type = "monetary"
    label = "Monetary value (spent)"
    help = '{"min": "200.00"}: money spent on the orders in the event log (RFM monetary).'
    field_name = "monetary"
    money = True

    def explain(self, params):
        return f"You have spent {range_words(params, money=True)} with us"


@register
class RecencyRule(_Rule):
    type = "recency"
    label = "Recency (days since last order)"
    help = '{"min": 90, "max": 365}: whole days since the last order (RFM recency).'

    def clean(self, params):
        return clean_range(params, integer=True, minimum=0)

    def compile(self, params):
        now = env().now
        lookups = {"last_purchase_at__isnull": False}
        if params.get("min") is not None:
            lookups["last_purchase_at__lte"] = now - timedelta(days=params["min"])
        if params.get("max") is not None:
            lookups["last_purchase_at__gt"] = now - timedelta(days=params["max"] + 1)
        return profile_q(**lookups)

    def evaluate(self, ctx, params):
        if ctx.profile is None or ctx.profile.last_purchase_at is None:
            return False
        return in_range((ctx.env.now - ctx.profile.last_purchase_at).days, params)

    def explain(self, params):
        return f"Your last order was {range_words(params, unit=' days')} ago"


@register
class LastOrderWithinRule(_Rule):
    type = "last_order_within"
    label = "Last order within N days"
    help = '{"days": 30}: ordered at least once in the last N days.'

    def clean(self, params):
        return {"days": _days(params, "days")}

    def compile(self, params):
        return profile_q(last_purchase_at__gte=env().now - timedelta(days=params["days"]))

    def evaluate(self, ctx, params):
        stamp = ctx.profile.last_purchase_at if ctx.profile is not None else None
        return stamp is not None and stamp >= ctx.env.now - timedelta(days=params["days"])

    def explain(self, params):
        return f"You ordered from us in the last {params['days']} days"


EXCLUDED_ORDER_STATUSES = ("cancelled", "refunded")


@register
class LifetimeValueRule(_Rule):
    type = "lifetime_value"
    label = "Lifetime value"
    help = (
        '{"min": "500.00", "max": "5000.00"}: the total of the shopper\'s orders in the store '
        "(cancelled and refunded orders left out); min must be above 0."
    )

    def clean(self, params):
        cleaned = clean_range(params, minimum=0)
        if Decimal(cleaned.get("min", "0")) <= 0:
            raise RuleError("'min' must be above 0 (shoppers without orders have no value).")
        return cleaned

    def compile(self, params):
        from shop.models import Order

        totals = (
            Order.objects.filter(user__isnull=False)
            .exclude(status__in=EXCLUDED_ORDER_STATUSES)
            .values("user_id")
            .annotate(value=Sum("total"))
            .filter(**range_lookups("value", params))
            .values("user_id")
        )
        return Q(pk__in=totals)

    def evaluate(self, ctx, params):
        from shop.models import Order

        value = (
            Order.objects.filter(user_id=ctx.user.pk)
            .exclude(status__in=EXCLUDED_ORDER_STATUSES)
            .aggregate(value=Sum("total"))["value"]
        )
        return in_range(value, params)

    def explain(self, params):
        return f"Your orders with us add up to {range_words(params, money=True)}"


@register
class AverageSentimentRule(_Rule):
    type = "average_sentiment"
    label = "Average sentiment"
    help = '{"min": 0.3}: the mean sentiment of the shopper\'s reviews and posts, -1 to 1.'

    def clean(self, params):
        return clean_range(params, minimum=-1, maximum=1)

    def compile(self, params):
        q = Q(sentiment_count__gt=0)
        if params.get("min") is not None:
            q &= Q(sentiment_sum__gte=float(params["min"]) * F("sentiment_count"))
        if params.get("max") is not None:
            q &= Q(sentiment_sum__lte=float(params["max"]) * F("sentiment_count"))
        return profile_q(q)

    def evaluate(self, ctx, params):
        p = ctx.profile
        if p is None or not p.sentiment_count:
            return False
        lo, hi = params.get("min"), params.get("max")
        above = lo is None or p.sentiment_sum >= float(lo) * p.sentiment_count
        below = hi is None or p.sentiment_sum <= float(hi) * p.sentiment_count
        return above and below

    def explain(self, params):
        return "What you wrote in your reviews and posts sounded " + (
            "positive" if float(params.get("min") or -1) >= 0 else "critical"
        )


class _HasActiveIntent(Func):
    """True when a profile's ``intents`` JSON has ``<intent>:<any category>`` expiring later."""

    output_field = BooleanField()

    def __init__(self, expression, *, intent: str, after: int):
        super().__init__(expression)
        self.intent, self.after = intent, after

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            template = (
                f"EXISTS (SELECT 1 FROM jsonb_each_text({sql}) AS i(k, v) "  # noqa: S608
                "WHERE split_part(i.k, ':', 1) = %s AND i.v::numeric > %s)"
            )
        else:
            template = (
                f"EXISTS (SELECT 1 FROM json_each({sql}) AS i "  # noqa: S608
                "WHERE substr(i.key, 1, instr(i.key, ':') - 1) = %s AND i.value > %s)"
            )
        return template, [*params, self.intent, self.after]


class _AffinityAtLeast(Func):
    """True when a profile's raw affinity score for ``key`` (``"<dimension>:<value>"``) is at
    least ``raw``; false when the profile has no score for it or the key was never met.

    The key's id is looked up by the database in the ``InterestKey`` dictionary, then found in
    ``affinity_ids``; its score sits at the same position of ``affinity_raw``.
    """

    output_field = BooleanField()

    def __init__(self, *, key: str, raw: float):
        super().__init__(F("affinity_ids"), F("affinity_raw"))
        self.key, self.raw = key, raw

    def as_sql(self, compiler, connection, **extra):
        (ids, ids_params), (raws, raws_params) = (
            compiler.compile(e) for e in self.source_expressions
        )
        key_id = "(SELECT k.id FROM personalization_interestkey k WHERE k.key = %s)"
        if connection.vendor == "postgresql":
            template = f"coalesce(({raws})[array_position({ids}, {key_id})] >= %s, false)"
            return template, [*raws_params, *ids_params, self.key, self.raw]
        template = (
            f"EXISTS (SELECT 1 FROM json_each({ids}) AS i "  # noqa: S608
            f"JOIN json_each({raws}) AS r ON r.key = i.key "
            f"WHERE i.value = {key_id} AND r.value >= %s)"
        )
        return template, [*ids_params, *raws_params, self.key, self.raw]


@register
class IntentRule(_Rule):
    type = "intent"
    label = "Active intent"
    help = (
        '{"intent": "gift", "category": "outdoor"}: the shopper\'s text signals show this intent '
        "and it has not expired; category (id or slug) is optional."
    )

    def clean(self, params):
        intent = str(params.get("intent") or "").strip().lower()[:40]
        if not intent or ":" in intent:
            raise RuleError("'intent' is required (a word such as gift).")
        cleaned = {"intent": intent}
        category = str(params.get("category") or "").strip()
        if category:
            cleaned["category"] = str(AffinityRule._resolve("category", category))
        return cleaned

    def compile(self, params):
        now = int(env().now.timestamp())
        if "category" in params:
            return profile_q(**{f"intents__{params['intent']}:{params['category']}__gt": now})
        return profile_q(_HasActiveIntent(F("intents"), intent=params["intent"], after=now))

    def evaluate(self, ctx, params):
        if ctx.profile is None:
            return False
        now = int(ctx.env.now.timestamp())
        for key, expiry in (ctx.profile.intents or {}).items():
            intent, _, category = key.partition(":")
            if intent != params["intent"] or not isinstance(expiry, int | float):
                continue
            if "category" in params and category != params["category"]:
                continue
            if expiry > now:
                return True
        return False

    def explain(self, params):
        where = ""
        if "category" in params:
            where = f" in {_dimension_label('category', params['category'])}"
        return f"You told us you are looking for a {params['intent']}{where}"


@register
class ConsentRule(_Rule):
    type = "consent"
    label = "Consent granted"
    help = '{"category": "interests"}: the shopper shares this consent category now.'

    def clean(self, params):
        from social.consent import CATEGORIES

        category = params.get("category")
        if category not in CATEGORIES:
            raise RuleError(f"'category' must be one of {', '.join(CATEGORIES)}.")
        return {"category": category}

    def compile(self, params):
        return consent_granted_q(params["category"])

    def evaluate(self, ctx, params):
        return params["category"] in ctx.granted

    def explain(self, params):
        from social.consent import CATEGORIES

        title = CATEGORIES[params["category"]].title.lower()
        return f"You chose to share your {title} with us"


# --- RFM -------------------------------------------------------------------------------------

RFM_DIMENSIONS = {"r": "recency", "f": "frequency", "m": "monetary"}

# The named cells of the R x F grid (each a union of boxes (r_min, r_max, f_min, f_max)), after
# the usual RFM segment map (champions top right, lost bottom left).
RFM_CELLS = {
    "champions": ("Champions", [(4, 5, 4, 5)], "You shop with us often and recently"),
    "loyal": (
        "Loyal",
        [(3, 3, 3, 5), (4, 5, 3, 3)],
        "You shop with us regularly",
    ),
    "new": ("New customers", [(4, 5, 1, 1)], "You placed your first order with us recently"),
    "at_risk": ("At risk", [(1, 2, 3, 5)], "You used to shop with us often, but not lately"),
    "hibernating": ("Hibernating", [(2, 2, 1, 2)], "It has been a while since your last order"),
    "lost": ("Lost", [(1, 1, 1, 2)], "It has been a long while since your last order"),
}


def _score_profile_q(dimension: str, lo: int, hi: int, cuts) -> Q:
    """A Q over PreferenceProfile: lo <= score(dimension) <= hi, for buyers only."""
    field_name = cuts.FIELDS[dimension]
    values = getattr(cuts, dimension)
    q = Q(order_count__gt=0, last_purchase_at__isnull=False)
    if lo >= 2:
        q &= Q(**{f"{field_name}__gt": values[lo - 2]})
    if hi <= 4:
        q &= Q(**{f"{field_name}__lte": values[hi - 1]})
    return q


def _score_of(ctx, dimension):
    p, cuts = ctx.profile, ctx.env.rfm
    if p is None or cuts is None or not p.order_count or p.last_purchase_at is None:
        return None
    return cuts.score(dimension, getattr(p, cuts.FIELDS[dimension]))


def _nobody() -> Q:
    return Q(pk__in=[])


@register
class RfmScoreRule(_Rule):
    type = "rfm_score"
    label = "RFM score"
    help = (
        '{"dimension": "r", "min": 4, "max": 5}: the recency (r), frequency (f) or monetary (m) '
        "score, 1 to 5 by quintile among shoppers with an order (5 = best)."
    )

    def clean(self, params):
        dimension = str(params.get("dimension") or "").lower()
        if dimension not in RFM_DIMENSIONS:
            raise RuleError("'dimension' must be r, f or m.")
        cleaned = clean_range(params, integer=True, minimum=1, maximum=5)
        return {"dimension": dimension, "min": cleaned.get("min", 1), "max": cleaned.get("max", 5)}

    def compile(self, params):
        cuts = env().rfm
        if cuts is None:
            return _nobody()
        return profile_q(_score_profile_q(params["dimension"], params["min"], params["max"], cuts))

    def evaluate(self, ctx, params):
        score = _score_of(ctx, params["dimension"])
        return score is not None and params["min"] <= score <= params["max"]

    def explain(self, params):
        words = RFM_DIMENSIONS[params["dimension"]]
        return f"Your {words} score with us is {params['min']} to {params['max']} out of 5"


@register
class RfmCellRule(_Rule):
    type = "rfm_cell"
    label = "RFM cell"
    help = '{"cell": "champions"}: one of ' + ", ".join(RFM_CELLS) + "."

    def clean(self, params):
        cell = str(params.get("cell") or "").lower().replace(" ", "_")
        if cell not in RFM_CELLS:
            raise RuleError(f"'cell' must be one of {', '.join(RFM_CELLS)}.")
        return {"cell": cell}

    def compile(self, params):
        cuts = env().rfm
        if cuts is None:
            return _nobody()
        q = Q()
        for r_lo, r_hi, f_lo, f_hi in RFM_CELLS[params["cell"]][1]:
            q |= _score_profile_q("r", r_lo, r_hi, cuts) & _score_profile_q("f", f_lo, f_hi, cuts)
        return profile_q(q)

    def evaluate(self, ctx, params):
        r, f = _score_of(ctx, "r"), _score_of(ctx, "f")
        if r is None or f is None:
            return False
        return any(
            r_lo <= r <= r_hi and f_lo <= f <= f_hi
            for r_lo, r_hi, f_lo, f_hi in RFM_CELLS[params["cell"]][1]
        )

    def explain(self, params):
        return RFM_CELLS[params["cell"]][2]


# --- segment of segments ---------------------------------------------------------------------


@register
class SegmentRule(_Rule):
    type = "segment"
    label = "Member of segment"
    help = '{"segment": "champions"}: matches what that segment\'s rules match (by slug).'

    def clean(self, params):
        from .models import Segment

        slug = str(params.get("segment") or "").strip()
        if not Segment.objects.filter(slug=slug).exists():
            raise RuleError(f"there is no segment {slug!r}.")
        return {"segment": slug}

    def _sub_env(self, slug):
        current = env()
        if slug in current.stack:
            chain = " → ".join((*current.stack, slug))
            raise RuleError(f"segment {slug!r} refers back to itself ({chain}).")
        return current.nested(slug)

    def _rules(self, slug):
        from .models import Segment

        rules = Segment.objects.filter(slug=slug).values_list("rules", flat=True).first()
        if rules is None:
            raise RuleError(f"there is no segment {slug!r}.")
        return rules

    def compile(self, params):
        from .rules import tree_compile

        sub = self._sub_env(params["segment"])
        return tree_compile(self._rules(params["segment"]), env=sub)

    def evaluate(self, ctx, params):
        from dataclasses import replace

        from .rules import tree_matches

        sub = self._sub_env(params["segment"])
        return tree_matches(self._rules(params["segment"]), replace(ctx, env=sub)) is not None

    def explain(self, params):
        from .models import Segment

        name = Segment.objects.filter(slug=params["segment"]).values_list("name", flat=True)
        return f"You are in our “{name.first() or params['segment']}” group"
