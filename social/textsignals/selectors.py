from django.core.cache import cache

from config.aftercommit import cache_fill

from .analysis import RuleSpec
from .models import IntentRule

RULES_KEY = "textsignals:rules:v1"


def active_rules() -> list[RuleSpec]:
    """Active intent rules, cached until staff change one (see services.rules_changed)."""
    rules = cache.get(RULES_KEY)
    if rules is None:
        rules = [
            RuleSpec(
                rule_id=rule.pk,
                phrase=rule.phrase,
                intent=rule.intent,
                category_id=rule.category_id,
                category=rule.category.name,
                keywords=rule.keywords,
                window=rule.window,
            )
            for rule in IntentRule.objects.filter(is_active=True).select_related("category")
        ]
        cache_fill(RULES_KEY, rules, 3600)
    return rules
