"""The segment rule registry and the rule tree: validation, SQL compilation, Python evaluation.

A rule tree is JSON: a *group* ``{"op": "and" | "or", "rules": [<node>, ...]}`` or a *rule*
``{"type": "<registered type>", "params": {...}}``. Groups nest to any depth (up to
``MAX_DEPTH`` levels, a guard against runaway input).

Guarantees:
- ``tree_compile(tree)`` returns one Django ``Q`` over the user model: the whole tree is one SQL
  query (rules over other tables become ``id IN (SELECT ...)`` sub-selects, which PostgreSQL
  runs as hashed sub-plans, also under OR).
- ``tree_evaluate(tree, ctx)`` says, in Python, what the compiled SQL says for one shopper; the
  tests cross-check the two on random profiles.
- Any problem (unknown type, bad parameter, a segment that refers back to itself) raises
  ``RuleError`` whose message names the rule (``Rule 2.1 (Age band): ...``); callers turn it into
  a form error or a 400, never a 500.
- A shopper who turned personalization off matches no tree that uses a rule with
  ``needs_profile = True``; a demographic rule also requires that the shopper's latest consent
  record for its category is a grant *now* (not just at the last profile build).

Other apps add rule types with ``register(RuleClass)`` from their ``AppConfig.ready()`` (loyalty:
"loyalty tier"; crm: "CRM tag"); see docs/segments.md.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from shop.money import money as format_money

MAX_DEPTH = 32
OPS = ("and", "or")


class RuleError(ValueError):
    """A rule tree that cannot be used; the message names the rule and says what to fix."""


# --- the registry ----------------------------------------------------------------------------

REGISTRY: dict[str, Rule] = {}


def register(rule_cls):
    """Register a rule class (usable as a decorator); a second class for a type replaces it."""
    instance = rule_cls()
    if not getattr(instance, "type", ""):
        raise ValueError(f"{rule_cls.__name__} has no type.")
    REGISTRY[instance.type] = instance
    return rule_cls


def get_rule(rule_type: str) -> Rule | None:
    return REGISTRY.get(rule_type)


def rule_choices() -> list[tuple[str, str]]:
    return sorted(((r.type, r.label) for r in REGISTRY.values()), key=lambda c: c[1])


# --- environment shared by compile and evaluate ----------------------------------------------


@dataclass
class RfmCuts:
    """Quintile cut points (20/40/60/80 % ``percentile_disc``) among shoppers with an order.

    score(x) = 1 + #{i : x > cut_i}, so 1..5 with 5 best: the latest ``last_purchase_at``, the
    most orders, the most money (Hughes, *Strategic Database Marketing*, RFM by quintiles).
    """

    r: list  # datetimes
    f: list  # ints
    m: list  # Decimals

    FIELDS = {"r": "last_purchase_at", "f": "order_count", "m": "monetary"}

    def score(self, dimension: str, value) -> int:
        return 1 + sum(1 for cut in getattr(self, dimension) if value > cut)


def _rfm_cuts(*, snapshot: bool = False) -> RfmCuts | None:
    from personalization.models import PreferenceProfile

    from .models import ProfileSnapshot

    buyers = PreferenceProfile.objects.filter(order_count__gt=0, last_purchase_at__isnull=False)
    if connection.vendor == "postgresql":
        table = (ProfileSnapshot if snapshot else PreferenceProfile)._meta.db_table
        with connection.cursor() as cursor:
            quintiles = "percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP"
            cursor.execute(
                f"""SELECT count(*), {quintiles} (ORDER BY last_purchase_at),
                    {quintiles} (ORDER BY order_count), {quintiles} (ORDER BY monetary)
                FROM {table} WHERE order_count > 0 AND last_purchase_at IS NOT NULL"""  # noqa: S608
            )
            count, r, f, m = cursor.fetchone()
        if not count:
            return None
        return RfmCuts(r=list(r), f=list(f), m=[Decimal(v) for v in m])
    rows = list(buyers.values_list("last_purchase_at", "order_count", "monetary"))
    if not rows:
        return None
    n = len(rows)

    def cuts(values):
        # percentile_disc(p): the first value whose cumulative share reaches p.
        values = sorted(values)
        return [values[max(0, -(-int(p * 10 * n) // 10) - 1)] for p in (0.2, 0.4, 0.6, 0.8)]

    return RfmCuts(
        r=cuts([row[0] for row in rows]),
        f=cuts([row[1] for row in rows]),
        m=cuts([row[2] for row in rows]),
    )


@dataclass
class Env:
    """What a compile or an evaluation batch shares: the time, RFM cuts, segments being walked."""

    now: datetime = field(default_factory=timezone.now)
    stack: tuple[str, ...] = ()
    _rfm: object = field(default=False, repr=False)
    # True inside a PostgreSQL refresh run: rules read the run's narrow temporary copies of
    # the profile and consent tables (``ProfileSnapshot`` / ``ConsentSnapshot``).
    snapshot: bool = False

    @property
    def rfm(self) -> RfmCuts | None:
        if self._rfm is False:
            self._rfm = _rfm_cuts(snapshot=self.snapshot)
        return self._rfm

    def nested(self, slug: str) -> Env:
        """The same environment one segment deeper (a segment rule, a segment's own tree)."""
        return Env(now=self.now, stack=(*self.stack, slug), _rfm=self._rfm, snapshot=self.snapshot)


_ENV: contextvars.ContextVar[Env | None] = contextvars.ContextVar("segment_env", default=None)


def env() -> Env:
    """The environment of the compile or evaluation in progress (rules read ``now`` from it)."""
    current = _ENV.get()
    return current if current is not None else Env()


@dataclass
class Context:
    """One shopper as ``evaluate`` sees them. ``Context.for_user`` loads it (a few queries)."""

    user: object
    profile: object | None  # personalization.models.PreferenceProfile
    granted: frozenset[str]
    opted_out: bool
    env: Env = field(default_factory=Env)
    cache: dict = field(default_factory=dict)  # rules from other apps may keep lookups here

    @classmethod
    def for_user(cls, user, *, env: Env | None = None) -> Context:
        from personalization.models import PreferenceProfile, ShopperChoice
        from social.selectors import granted_categories

        return cls(
            user=user,
            profile=PreferenceProfile.objects.filter(user_id=user.pk).first(),
            granted=frozenset(granted_categories(user)),
            opted_out=ShopperChoice.objects.filter(
                user_id=user.pk, personalization_enabled=False
            ).exists(),
            env=env or Env(),
        )


# --- the rule base class ---------------------------------------------------------------------


class Rule:
    """One kind of condition. Subclasses set ``type``, ``label`` and implement the four methods.

    ``needs_profile``: the rule uses what personalization learnt (or shared data), so shoppers
    who turned personalization off never match it. ``help``: the params, for the admin and docs.
    """

    type = ""
    label = ""
    help = ""
    needs_profile = True

    def clean(self, params: dict) -> dict:
        """Return the params validated and normalised; raise RuleError (without the rule's name)."""
        return params

    def compile(self, params: dict) -> Q:
        """A Q over the user model selecting the shoppers who match."""
        raise NotImplementedError

    def evaluate(self, ctx: Context, params: dict) -> bool:
        """Whether the shopper of ``ctx`` matches (the same answer as ``compile``)."""
        raise NotImplementedError

    def explain(self, params: dict) -> str:
        """Plain words for the shopper, naming the data used ("You are 25–34 and shared ...")."""
        return self.label

    def explain_for(self, ctx: Context, params: dict) -> str:
        """``explain`` narrowed to what this shopper matched (default: ``explain``)."""
        return self.explain(params)


# --- param helpers ---------------------------------------------------------------------------


def clean_number(params, key, *, required=False, minimum=None, maximum=None, integer=False):
    value = params.get(key)
    if value in (None, ""):
        if required:
            raise RuleError(f"'{key}' is required.")
        return None
    if isinstance(value, bool):
        raise RuleError(f"'{key}' must be a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(f"'{key}' must be a number, not {value!r}.") from None
    if not number.is_finite():
        raise RuleError(f"'{key}' must be a number, not {value!r}.")
    if integer:
        if number != number.to_integral_value():
            raise RuleError(f"'{key}' must be a whole number.")
        number = int(number)
    if minimum is not None and number < minimum:
        raise RuleError(f"'{key}' must be at least {minimum}.")
    if maximum is not None and number > maximum:
        raise RuleError(f"'{key}' must be at most {maximum}.")
    return number


def clean_range(params, *, integer=False, minimum=None, maximum=None, unit=""):
    lo = clean_number(params, "min", integer=integer, minimum=minimum, maximum=maximum)
    hi = clean_number(params, "max", integer=integer, minimum=minimum, maximum=maximum)
    if lo is None and hi is None:
        raise RuleError("give 'min', 'max' or both.")
    if lo is not None and hi is not None and lo > hi:
        raise RuleError(f"'min' ({lo}) is above 'max' ({hi}).")
    cleaned = {}
    if lo is not None:
        cleaned["min"] = lo if integer else str(lo)
    if hi is not None:
        cleaned["max"] = hi if integer else str(hi)
    return cleaned


def clean_strings(params, key, *, choices=None, lower=True):
    value = params.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RuleError(f"'{key}' must be a non-empty list.")
    cleaned = []
    for item in value:
        if not isinstance(item, str | int) or isinstance(item, bool) or not str(item).strip():
            raise RuleError(f"'{key}' holds an empty or non-text value.")
        item = str(item).strip()[:120]
        item = item.lower() if lower else item
        if choices is not None and item not in choices:
            raise RuleError(f"{item!r} is not one of {', '.join(choices)}.")
        if item not in cleaned:
            cleaned.append(item)
    return cleaned


def in_range(value, params) -> bool:
    if value is None:
        return False
    lo, hi = params.get("min"), params.get("max")
    if lo is not None and value < _as(value, lo):
        return False
    return hi is None or value <= _as(value, hi)


def _as(value, bound):
    if isinstance(value, Decimal):
        return Decimal(str(bound))
    if isinstance(value, float):
        return float(bound)
    return type(value)(bound) if isinstance(value, int) else bound


def range_lookups(field_name: str, params) -> dict:
    lookups = {}
    if params.get("min") is not None:
        lookups[f"{field_name}__gte"] = params["min"]
    if params.get("max") is not None:
        lookups[f"{field_name}__lte"] = params["max"]
    return lookups


def range_words(params, unit="", money=False) -> str:
    def fmt(v):
        return format_money(v) if money else f"{v}{unit}"

    lo, hi = params.get("min"), params.get("max")
    if lo is not None and hi is not None:
        return f"between {fmt(lo)} and {fmt(hi)}"
    if lo is not None:
        return f"at least {fmt(lo)}"
    return f"at most {fmt(hi)}"


# --- building blocks over other tables -------------------------------------------------------


def profile_q(q: Q | None = None, *, full: bool = False, **lookups) -> Q:
    """Shoppers whose stored preference profile matches ``q`` / ``lookups`` (one sub-select).

    Inside a refresh run the sub-select reads the run's narrow profile copy, unless ``full``
    (the rule needs a column the copy leaves out: affinities)."""
    from personalization.models import PreferenceProfile

    from .models import ProfileSnapshot

    model = ProfileSnapshot if env().snapshot and not full else PreferenceProfile
    profiles = model.objects.all()
    if q is not None:
        profiles = profiles.filter(q)
    return Q(pk__in=profiles.filter(**lookups).values("user_id"))


def consent_granted_q(category: str) -> Q:
    """Shoppers whose latest consent record for ``category`` is a grant (their consent now)."""
    from social.models import ConsentRecord

    if env().snapshot:
        from .models import ConsentSnapshot

        return Q(pk__in=ConsentSnapshot.objects.filter(category=category).values("user_id"))
    later = ConsentRecord.objects.filter(
        user_id=OuterRef("user_id"), category=category, id__gt=OuterRef("id")
    )
    granted = ConsentRecord.objects.filter(
        category=category, action=ConsentRecord.Action.GRANTED
    ).exclude(Exists(later))
    return Q(pk__in=granted.values("user_id"))


def opted_out_q() -> Q:
    from personalization.models import ShopperChoice

    return Q(pk__in=ShopperChoice.objects.filter(personalization_enabled=False).values("user_id"))


# --- the tree --------------------------------------------------------------------------------


def _name(path: str, node) -> str:
    rule = get_rule(node.get("type")) if isinstance(node, dict) else None
    label = f" ({rule.label})" if rule else ""
    return f"Rule {path}{label}" if path else f"The rule tree{label}"


def tree_clean(tree) -> dict:
    """The tree validated and normalised (params cleaned by each rule). Raises RuleError."""
    if tree in (None, {}, []):
        raise RuleError("A segment needs at least one rule.")
    return _clean_node(tree, "", 0)


def _clean_node(node, path, depth):
    if depth > MAX_DEPTH:
        raise RuleError(f"{_name(path, node)}: groups are nested more than {MAX_DEPTH} deep.")
    if not isinstance(node, dict):
        raise RuleError(f"{_name(path, node)}: expected an object, got {type(node).__name__}.")
    if "op" in node or "rules" in node:
        op = str(node.get("op", "")).lower()
        if op not in OPS:
            raise RuleError(f"{_name(path, node)}: a group's op must be 'and' or 'or'.")
        children = node.get("rules")
        if not isinstance(children, list) or not children:
            raise RuleError(f"{_name(path, node)}: a group needs at least one rule.")
        return {
            "op": op,
            "rules": [
                _clean_node(child, f"{path}.{i}" if path else str(i), depth + 1)
                for i, child in enumerate(children, start=1)
            ],
        }
    rule_type = node.get("type")
    rule = get_rule(rule_type) if isinstance(rule_type, str) else None
    if rule is None:
        known = ", ".join(sorted(REGISTRY))
        raise RuleError(
            f"{_name(path, node)}: unknown rule type {rule_type!r} (known types: {known})."
        )
    params = node.get("params", {})
    if not isinstance(params, dict):
        raise RuleError(f"{_name(path, node)}: params must be an object.")
    try:
        cleaned = rule.clean(dict(params))
    except RuleError as error:
        raise RuleError(f"{_name(path, node)}: {error}") from None
    return {"type": rule.type, "params": cleaned}


def tree_needs_profile(tree) -> bool:
    if "rules" in tree:
        return any(tree_needs_profile(child) for child in tree["rules"])
    rule = get_rule(tree.get("type"))
    return rule is None or rule.needs_profile


def tree_compile(tree, *, env: Env | None = None) -> Q:
    """One Q over the user model for the whole (cleaned or raw) tree. Raises RuleError."""
    tree = tree_clean(tree)
    token = _ENV.set(env or _ENV.get() or Env())
    try:
        q = _compile_node(tree, "")
    finally:
        _ENV.reset(token)
    if tree_needs_profile(tree):
        q &= ~opted_out_q()
    return q


def _compile_node(node, path) -> Q:
    if "rules" in node:
        q = Q()
        for i, child in enumerate(node["rules"], start=1):
            child_q = _compile_node(child, f"{path}.{i}" if path else str(i))
            q = child_q if i == 1 else (q & child_q if node["op"] == "and" else q | child_q)
        return q
    rule = get_rule(node["type"])
    try:
        return rule.compile(node["params"])
    except RuleError as error:
        raise RuleError(f"{_name(path, node)}: {error}") from None
    except Exception as error:  # a rule from another app that cannot compile
        raise RuleError(f"{_name(path, node)}: cannot be compiled ({error}).") from None


def tree_evaluate(tree, ctx: Context) -> bool:
    """Python evaluation of the tree for one shopper (same answer as the compiled SQL)."""
    return bool(tree_matches(tree, ctx) is not None)


def tree_matches(tree, ctx: Context) -> list[tuple[str, dict]] | None:
    """The rules that made the tree match, as ``[(path, rule node), ...]``, or None.

    For an AND group every child's matches; for an OR group the first child that matches.
    """
    tree = tree_clean(tree)
    if ctx.opted_out and tree_needs_profile(tree):
        return None
    token = _ENV.set(ctx.env)
    try:
        return _match_node(tree, "", ctx)
    finally:
        _ENV.reset(token)


def _match_node(node, path, ctx):
    if "rules" in node:
        found = []
        for i, child in enumerate(node["rules"], start=1):
            matched = _match_node(child, f"{path}.{i}" if path else str(i), ctx)
            if node["op"] == "or" and matched is not None:
                return matched
            if node["op"] == "and":
                if matched is None:
                    return None
                found.extend(matched)
        return found if node["op"] == "and" else None
    rule = get_rule(node["type"])
    try:
        hit = rule.evaluate(ctx, node["params"])
    except RuleError as error:
        raise RuleError(f"{_name(path, node)}: {error}") from None
    return [(path or "1", node)] if hit else None


def tree_explain(tree) -> list[str]:
    """Every rule of the tree in plain words (for staff: what the segment means)."""
    tree = tree_clean(tree)
    lines = []

    def walk(node, depth):
        if "rules" in node:
            lines.append("  " * depth + ("All of:" if node["op"] == "and" else "Any of:"))
            for child in node["rules"]:
                walk(child, depth + 1)
        else:
            lines.append("  " * depth + get_rule(node["type"]).explain(node["params"]))

    walk(tree, 0)
    return lines


# --- the built-in rules ----------------------------------------------------------------------

CONSENT_TITLES = {
    "age": "your age",
    "gender": "your gender",
    "relationship": "your relationship status",
    "interests": "your interests",
}


class DemographicRule(Rule):
    """A field of the consented social profile; also needs the consent to stand now."""

    field_name = ""
    consent_category = ""
    param = "values"
    choices: list[str] | None = None

    def clean(self, params):
        return {self.param: clean_strings(params, self.param, choices=self.choices)}

    def compile(self, params):
        values = params[self.param]
        field_q = Q()
        for value in values:
            # containment uses the GIN index segments adds on demographics (jsonb_path_ops);
            # SQLite (the embedded demo) has no JSON containment: a key lookup there.
            if connection.vendor == "postgresql":
                field_q |= Q(demographics__contains={self.field_name: value})
            else:
                field_q |= Q(**{f"demographics__{self.field_name}": value})
        return profile_q(field_q) & consent_granted_q(self.consent_category)

    def evaluate(self, ctx, params):
        if ctx.profile is None or self.consent_category not in ctx.granted:
            return False
        return (ctx.profile.demographics or {}).get(self.field_name) in params[self.param]

    def explain_for(self, ctx, params):
        value = (ctx.profile.demographics or {}).get(self.field_name) if ctx.profile else None
        if value in params[self.param]:
            return self.explain({**params, self.param: [value]})
        return self.explain(params)


AGE_BANDS = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]


@register
class AgeBandRule(DemographicRule):
    type = "age_band"
    label = "Age band"
    help = '{"bands": ["25-34", "35-44"]}: the age band shared from a social account.'
    field_name = "age_band"
    consent_category = "age"
    param = "bands"
    choices = AGE_BANDS

    def explain(self, params):
        bands = " or ".join(b.replace("-", "–") for b in params["bands"])
        return f"You are {bands} and shared your age with us"


@register
class GenderRule(DemographicRule):
    type = "gender"
    label = "Gender"
    help = '{"genders": ["female"]}: female, male, nonbinary or other, as shared.'
    field_name = "gender"
    consent_category = "gender"
    param = "genders"
    choices = ["female", "male", "nonbinary", "other"]

    def explain(self, params):
        return "You shared your gender with us"


@register
class RelationshipRule(DemographicRule):
    type = "relationship_status"
    label = "Relationship status"
    help = '{"statuses": ["engaged", "married"]}: as shared from a social account.'
    field_name = "relationship_status"
    consent_category = "relationship"
    param = "statuses"
    choices = [
        "single",
        "in_relationship",
        "engaged",
        "married",
        "complicated",
        "separated",
        "divorced",
        "widowed",
    ]

    def explain(self, params):
        return "You shared your relationship status with us"


@register
class InterestRule(DemographicRule):
    type = "interest"
    label = "Interest (shared)"
    help = (
        '{"interests": ["hiking", "cooking"]}: any of these interests shared from a social account.'
    )
    field_name = "interests"
    consent_category = "interests"
    param = "interests"

    def compile(self, params):
        field_q = Q()
        for value in params["interests"]:
            if connection.vendor == "postgresql":
                field_q |= Q(demographics__contains={"interests": [value]})
            else:  # SQLite: the list's JSON text holds the quoted interest
                field_q |= Q(demographics__interests__icontains=f'"{value}"')
        return profile_q(field_q) & consent_granted_q(self.consent_category)

    def evaluate(self, ctx, params):
        if ctx.profile is None or self.consent_category not in ctx.granted:
            return False
        shared = (ctx.profile.demographics or {}).get("interests") or []
        return any(value in shared for value in params["interests"])

    def explain_for(self, ctx, params):
        shared = (ctx.profile.demographics or {}).get("interests") or [] if ctx.profile else []
        matched = [value.capitalize() for value in params["interests"] if value in shared]
        if not matched:
            return self.explain(params)
        words = matched[0] if len(matched) == 1 else ", ".join(matched[:-1]) + " and " + matched[-1]
        return f"You told us you are into {words} (shared from your social profile)"

    def explain(self, params):
        words = " or ".join(v.capitalize() for v in params["interests"])
        return f"You told us you are into {words} (shared from your social profile)"


def register_builtin_rules() -> None:
    """Called from SegmentsConfig.ready(); the decorators above have already registered."""
    from . import rule_types  # noqa: F401  (registers the remaining built-in rules)
