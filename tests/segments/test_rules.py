"""Segments: the rule tree compiles to one SQL query that agrees with its Python evaluation."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from personalization.building import decay_factor
from personalization.models import PreferenceProfile, ShopperChoice
from personalization.segments import rules
from personalization.segments.rules import Context, Env, RuleError, tree_compile, tree_matches
from social.models import ConsentRecord
from tests.factories import BrandFactory, CategoryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BANDS = ["18-24", "25-34", "35-44"]
INTERESTS = ["hiking", "coffee", "jazz"]
CONSENTS = ["age", "gender", "interests", "relationship"]


def _random_shoppers(rng, now, categories, brands, count=60):
    factor = decay_factor(now)
    users = []
    for i in range(count):
        user = UserFactory(username=f"prop{i}")
        get_user_model().objects.filter(pk=user.pk).update(
            date_joined=now - timedelta(days=rng.randint(0, 90), seconds=rng.randint(0, 86399))
        )
        if rng.random() < 0.85:
            keys = [f"category:{c.pk}" for c in categories] + [f"brand:{b.pk}" for b in brands]
            keys += ["colour:red", "style:rugged"]
            affinities = {
                key: round(rng.uniform(-1, 20), 3) / factor
                for key in rng.sample(keys, rng.randint(0, len(keys)))
            }
            orders = rng.choice([0, 0, 1, 1, 2, 3, 5, 8])
            sentiment_count = rng.randint(0, 4)
            intents = {}
            if rng.random() < 0.5:
                intent = rng.choice(["gift", "replacement"])
                category = rng.choice(["", str(categories[0].pk), str(categories[1].pk)])
                intents[f"{intent}:{category}"] = int(
                    (now + timedelta(days=rng.randint(-10, 10))).timestamp()
                )
            demographics = {}
            if rng.random() < 0.6:
                demographics["age_band"] = rng.choice(BANDS)
            if rng.random() < 0.5:
                demographics["gender"] = rng.choice(["female", "male"])
            if rng.random() < 0.6:
                demographics["interests"] = rng.sample(INTERESTS, rng.randint(1, 2))
            PreferenceProfile.objects.create(
                user=user,
                affinities=affinities,
                event_count=rng.randint(1, 50),
                order_count=orders,
                monetary=Decimal(rng.randint(0, 90000)) / 100 if orders else Decimal(0),
                last_purchase_at=(
                    now - timedelta(days=rng.randint(0, 400), seconds=rng.randint(0, 86399))
                    if orders
                    else None
                ),
                sentiment_count=sentiment_count,
                sentiment_sum=round(rng.uniform(-1, 1), 2) * sentiment_count,
                intents=intents,
                demographics=demographics,
            )
        for category in CONSENTS:
            if rng.random() < 0.6:
                ConsentRecord.objects.create(
                    user=user,
                    category=category,
                    action="granted",
                    source="privacy_page",
                    policy_version="1",
                )
                if rng.random() < 0.25:
                    ConsentRecord.objects.create(
                        user=user,
                        category=category,
                        action="revoked",
                        source="privacy_page",
                        policy_version="1",
                    )
        if rng.random() < 0.1:
            ShopperChoice.objects.create(user=user, personalization_enabled=False)
        user.refresh_from_db()
        users.append(user)
    return users


def _random_leaf(rng, categories, brands):
    choice = rng.randrange(14)
    rng_range = sorted(rng.sample(range(0, 10), 2))
    return [
        lambda: {"type": "age_band", "params": {"bands": rng.sample(BANDS, rng.randint(1, 2))}},
        lambda: {"type": "gender", "params": {"genders": [rng.choice(["female", "male"])]}},
        lambda: {"type": "interest", "params": {"interests": [rng.choice(INTERESTS)]}},
        lambda: {
            "type": "affinity",
            "params": {
                "dimension": "category",
                "value": str(rng.choice(categories).pk),
                "min_score": rng.choice([0.5, 2, 5, 10]),
            },
        },
        lambda: {
            "type": "affinity",
            "params": {"dimension": "colour", "value": "red", "min_score": rng.choice([1, 8])},
        },
        lambda: {"type": "frequency", "params": {"min": rng_range[0], "max": rng_range[1]}},
        lambda: {"type": "monetary", "params": {"min": rng.randint(0, 500)}},
        lambda: {"type": "recency", "params": {"min": rng.randint(0, 60), "max": 200}},
        lambda: {"type": "last_order_within", "params": {"days": rng.choice([7, 30, 180])}},
        lambda: {
            "type": "rfm_score",
            "params": {"dimension": rng.choice("rfm"), "min": rng.randint(1, 3), "max": 5},
        },
        lambda: {"type": "rfm_cell", "params": {"cell": rng.choice(list(rules_cells()))}},
        lambda: {"type": "average_sentiment", "params": {"min": rng.choice([-0.5, 0, 0.3])}},
        lambda: {
            "type": "intent",
            "params": {"intent": rng.choice(["gift", "replacement"])}
            | ({"category": str(categories[0].pk)} if rng.random() < 0.5 else {}),
        },
        lambda: rng.choice(
            [
                {"type": "consent", "params": {"category": rng.choice(CONSENTS)}},
                {"type": "new_shopper", "params": {"days": rng.choice([10, 45])}},
            ]
        ),
    ][choice]()


def rules_cells():
    from personalization.segments.rule_types import RFM_CELLS

    return RFM_CELLS


def _random_tree(rng, categories, brands, depth=0):
    if depth < 4 and (depth == 0 or rng.random() < 0.35):
        return {
            "op": rng.choice(["and", "or"]),
            "rules": [
                _random_tree(rng, categories, brands, depth + 1) for _ in range(rng.randint(1, 3))
            ],
        }
    return _random_leaf(rng, categories, brands)


@pytest.mark.parametrize("snapshot", [False, True], ids=["tables", "refresh-snapshot"])
def test_compiled_sql_matches_python_evaluation_on_random_profiles(snapshot):
    """Also as a refresh compiles it: over the run's temporary copies of the profile and
    consent tables (PostgreSQL), which must say exactly what the tables say."""
    rng = random.Random(9)
    now = timezone.now()
    categories = [CategoryFactory(), CategoryFactory()]
    brands = [BrandFactory()]
    users = _random_shoppers(rng, now, categories, brands)
    if snapshot:
        from django.db import connection

        from personalization.segments.services import refresh_snapshot_create

        if connection.vendor != "postgresql":
            pytest.skip("the refresh snapshot is PostgreSQL's")
        with connection.cursor() as cursor:
            refresh_snapshot_create(cursor)
    env = Env(now=now, snapshot=snapshot)
    contexts = [Context.for_user(user, env=env) for user in users]
    assert env.rfm is not None, "the random shoppers include buyers, so RFM cuts exist"
    non_trivial = 0
    for _ in range(150):
        tree = _random_tree(rng, categories, brands)
        q = tree_compile(tree, env=env)
        sql_ids = set(
            get_user_model()
            .objects.filter(q, pk__in=[u.pk for u in users])
            .values_list("pk", flat=True)
        )
        python_ids = {ctx.user.pk for ctx in contexts if tree_matches(tree, ctx) is not None}
        assert sql_ids == python_ids, tree
        non_trivial += 0 < len(sql_ids) < len(users)
    assert non_trivial > 50, "most random trees split the shoppers (the test has teeth)"


def test_nested_tree_is_one_sql_query():
    now = timezone.now()
    tree = {
        "op": "or",
        "rules": [
            {
                "op": "and",
                "rules": [
                    {"type": "age_band", "params": {"bands": ["25-34"]}},
                    {
                        "op": "or",
                        "rules": [
                            {"type": "interest", "params": {"interests": ["hiking"]}},
                            {"op": "and", "rules": [{"type": "frequency", "params": {"min": 2}}]},
                        ],
                    },
                ],
            },
            {"type": "new_shopper", "params": {"days": 7}},
        ],
    }
    q = tree_compile(tree, env=Env(now=now))
    with CaptureQueriesContext(connection) as queries:
        list(get_user_model().objects.filter(q).values_list("pk", flat=True))
    assert len(queries) == 1


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (
            {"op": "and", "rules": [{"type": "age_band", "params": {"bands": ["99-100"]}}]},
            "Rule 1 (Age band): '99-100' is not one of",
        ),
        (
            {"op": "and", "rules": [{"op": "or", "rules": [{"type": "shoe_size"}]}]},
            "Rule 1.1: unknown rule type 'shoe_size'",
        ),
        ({"op": "xor", "rules": []}, "a group's op must be 'and' or 'or'"),
        (
            {"op": "and", "rules": [{"type": "frequency", "params": {"min": 5, "max": 2}}]},
            "Rule 1 (Frequency (orders)): 'min' (5) is above 'max' (2).",
        ),
        (
            {"op": "and", "rules": [{"type": "affinity", "params": {"dimension": "mood"}}]},
            "Rule 1 (Affinity): 'dimension' must be one of",
        ),
        ({}, "A segment needs at least one rule."),
        ("nonsense", "expected an object"),
    ],
)
def test_a_bad_rule_is_refused_with_a_message_naming_it(tree, message):
    with pytest.raises(RuleError) as error:
        tree_compile(tree)
    assert message in str(error.value)


def test_depth_is_any_but_bounded():
    tree = {"type": "new_shopper", "params": {"days": 3}}
    for _ in range(rules.MAX_DEPTH - 1):
        tree = {"op": "and", "rules": [tree]}
    tree_compile(tree)  # 31 nested groups compile
    for _ in range(3):
        tree = {"op": "or", "rules": [tree]}
    with pytest.raises(RuleError, match="nested more than"):
        tree_compile(tree)
