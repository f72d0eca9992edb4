"""The "loyalty tier" segment rule (personalization.segments' registry; see docs/segments.md).

Params: ``{"tier": "<slug>", "or_above": true}``. Matches shoppers whose current tier (from
``LoyaltyStatus``, kept true after refunds) is that tier, or that tier or higher. The data is
the shopper's own orders with the store, so it does not need the preference profile.
"""

from __future__ import annotations

from django.db.models import Q


def _rule_class():
    from personalization.segments.rules import Rule, RuleError, register

    from .models import LoyaltyStatus, Tier

    class LoyaltyTierRule(Rule):
        type = "loyalty_tier"
        label = "Loyalty tier"
        help = '{"tier": "<tier slug>", "or_above": true}'
        needs_profile = False

        def clean(self, params):
            tier = Tier.objects.filter(slug=str(params.get("tier", ""))).first()
            if tier is None:
                names = ", ".join(Tier.objects.values_list("slug", flat=True)) or "none yet"
                raise RuleError(f"Choose a tier ({names}).")
            return {"tier": tier.slug, "or_above": bool(params.get("or_above", True))}

        def _statuses(self, params):
            tier = Tier.objects.filter(slug=params["tier"]).first()
            if tier is None:
                return LoyaltyStatus.objects.none()
            if params.get("or_above", True):
                return LoyaltyStatus.objects.filter(tier__position__gte=tier.position)
            return LoyaltyStatus.objects.filter(tier=tier)

        def compile(self, params):
            return Q(pk__in=self._statuses(params).values("user_id"))

        def evaluate(self, ctx, params):
            return self._statuses(params).filter(user_id=ctx.user.pk).exists()

        def explain(self, params):
            name = Tier.objects.filter(slug=params["tier"]).values_list("name", flat=True).first()
            above = " or above" if params.get("or_above", True) else ""
            return f"You are a {name or params['tier']}{above} member of our loyalty programme"

    return register, LoyaltyTierRule


def register() -> None:
    register_rule, rule = _rule_class()
    register_rule(rule)
