"""The event log: one append-only row per meaningful act of a shopper.

Preference profiles, segments and the CRM timeline are built from these rows by tasks.
"""

import json

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone


class Event(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", "Viewed a product"
        SEARCH = "search", "Searched"
        ADD_TO_CART = "add_to_cart", "Added to cart"
        PURCHASE = "purchase", "Purchased"
        LIKE = "like", "Liked"
        UNLIKE = "unlike", "Withdrew a like"
        SHARE = "share", "Shared"
        REVIEW = "review", "Reviewed"
        FORUM_POST = "forum_post", "Posted in the forum"
        TEXT_SIGNAL = "text_signal", "Text signal"
        COUPON_REDEEMED = "coupon_redeemed", "Redeemed a coupon"
        EMAIL_OPEN = "email_open", "Opened an email"
        EMAIL_CLICK = "email_click", "Clicked an email"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.CASCADE,
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    product = models.ForeignKey(
        "shop.Product", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    attributes = models.JSONField(default=dict, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="event_user_time"),
            models.Index(fields=["kind", "-occurred_at"], name="event_kind_time"),
        ]

    def __str__(self):
        who = self.user_id or self.session_key
        return f"{self.kind} by {who} at {self.occurred_at:%Y-%m-%d %H:%M}"


class NumberArrayField(models.Field):
    """A list of numbers in one column: a native array on PostgreSQL (``integer[]`` or
    ``double precision[]``, so SQL can index and unnest it), JSON text elsewhere (SQLite).

    ``kind`` is ``"integer"`` or ``"float"``. Python sees a ``list`` (``[]`` when empty).
    """

    DB_TYPES = {"integer": "integer[]", "float": "double precision[]"}

    def __init__(self, *args, kind: str = "integer", **kwargs):
        if kind not in self.DB_TYPES:
            raise ValueError(f"kind must be one of {', '.join(self.DB_TYPES)}")
        self.kind = kind
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        if kwargs.get("default") is list:
            del kwargs["default"]
        return name, path, args, kwargs

    def db_type(self, connection):
        return self.DB_TYPES[self.kind] if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(value) if isinstance(value, str) else list(value)

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        return json.loads(value) if isinstance(value, str) else list(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        cast = int if self.kind == "integer" else float
        value = [cast(v) for v in value]
        return value if connection.vendor == "postgresql" else json.dumps(value)

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))


class InterestKey(models.Model):
    """The dictionary of interest keys ``"<dimension>:<value>"``: one small integer per key.

    A row never changes and is never deleted once committed (builds add the keys they meet;
    ``interest_ids``), so an id means the same key for ever and every process may cache the
    id -> key map (``interest_keys``). Profiles store ids, not the key strings (issue 15).
    """

    id = models.AutoField(primary_key=True)
    key = models.CharField(max_length=200, unique=True)

    def __str__(self):
        return self.key


# id -> key of committed dictionary rows, per process (rows never change). PostgreSQL only:
# its sequence never hands an id out twice, while SQLite may reuse the id of a rolled-back row.
_KEY_BY_ID: dict[int, str] = {}


def interest_keys(ids) -> list[str]:
    """The keys of dictionary ids, in the same order (one query for the ids not cached).

    Raises ``KeyError`` for an id that is not in the dictionary.
    """
    ids = list(ids)
    cache = _KEY_BY_ID if connection.vendor == "postgresql" else {}
    missing = [i for i in ids if i not in cache]
    if missing:
        cache.update(InterestKey.objects.filter(id__in=missing).values_list("id", "key"))
    return [cache[i] for i in ids]


def interest_ids(keys) -> list[int]:
    """The dictionary ids of ``keys``, in the same order, adding the keys not there yet.

    Always read from the database (a cached id of a row whose transaction rolled back would
    point nowhere); a key added concurrently is settled by the unique constraint.
    """
    keys = [str(k) for k in keys]
    if not keys:
        return []
    found = dict(InterestKey.objects.filter(key__in=keys).values_list("key", "id"))
    new = sorted(set(keys) - found.keys())
    if new:
        InterestKey.objects.bulk_create([InterestKey(key=k) for k in new], ignore_conflicts=True)
        found.update(InterestKey.objects.filter(key__in=new).values_list("key", "id"))
    return [found[k] for k in keys]


class PreferenceProfile(models.Model):
    """What the store has learnt about one shopper, rebuilt by tasks from events and consents.

    ``affinities`` (a property) maps ``"<dimension>:<value>"`` (``category:12``, ``brand:3``,
    ``colour:blue``, ``size:m``, ``style:classic``, ``price_band:mid``) to a *raw* score: the sum
    over events of ``weight(kind) * 2 ** ((occurred_at - PERSONALIZATION_DECAY_EPOCH) /
    half_life)``. Because the raw score is a plain sum, new events are simply added to it
    (incremental build == full rebuild); the decayed score at time ``t`` is
    ``raw * 2 ** -((t - epoch) / half_life)``. It is stored as two arrays of the same length:
    ``affinity_ids`` (``InterestKey`` ids, each once, in no particular order) and
    ``affinity_raw`` (the raw score of the key at the same position): ~0.4 kB a shopper instead
    of ~1.1 kB of JSON, and 2x cheaper for the build to write (issue 15).
    ``intents`` maps ``"<intent>:<category id or empty>"`` to the latest expiry (Unix seconds).
    ``demographics`` holds only fields whose consent category the shopper granted.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        related_name="preference_profile",
        on_delete=models.CASCADE,
    )
    affinity_ids = NumberArrayField(kind="integer", blank=True)
    affinity_raw = NumberArrayField(kind="float", blank=True)
    event_count = models.PositiveIntegerField(default=0)
    first_event_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    order_count = models.PositiveIntegerField(default=0, help_text="RFM frequency.")
    monetary = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="RFM monetary: total spent."
    )
    last_purchase_at = models.DateTimeField(null=True, blank=True, help_text="RFM recency.")
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    sentiment_sum = models.FloatField(default=0)
    sentiment_count = models.PositiveIntegerField(default=0)
    intents = models.JSONField(default=dict, blank=True)
    demographics = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["last_purchase_at"], name="profile_recency"),
            # the few shoppers with consented demographics, which a full build refreshes
            # (``consent.demographic_candidates``) without scanning every profile
            models.Index(
                fields=["user"], condition=~Q(demographics={}), name="profile_has_demographics"
            ),
        ]

    def __str__(self):
        return f"Profile of {self.user_id}"

    @property
    def affinities(self) -> dict[str, float]:
        """``{"<dimension>:<value>": raw score}``, decoded through the key dictionary (a new
        dict each time: change it and assign it back to store the change)."""
        return dict(zip(interest_keys(self.affinity_ids), self.affinity_raw, strict=True))

    @affinities.setter
    def affinities(self, value: dict[str, float]) -> None:
        pairs = sorted(zip(interest_ids(value), (float(v) for v in value.values()), strict=True))
        self.affinity_ids = [i for i, _ in pairs]
        self.affinity_raw = [raw for _, raw in pairs]

    @property
    def average_sentiment(self) -> float | None:
        return self.sentiment_sum / self.sentiment_count if self.sentiment_count else None


class ShopperChoice(models.Model):
    """A shopper's say over personalization: off entirely, or single interests removed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        related_name="personalization_choice",
        on_delete=models.CASCADE,
    )
    personalization_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user_id}: {'on' if self.personalization_enabled else 'off'}"


class RemovedInterest(models.Model):
    """An interest the shopper removed; builds never put it back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="removed_interests", on_delete=models.CASCADE
    )
    dimension = models.CharField(max_length=20)
    value = models.CharField(max_length=120)
    removed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dimension", "value"], name="one_removal_per_interest"
            )
        ]

    def __str__(self):
        return f"{self.user_id} removed {self.dimension}:{self.value}"


class ProfileBuildState(models.Model):
    """The build watermark (a single row): events with ``id <= watermark`` are in the profiles."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    watermark = models.BigIntegerField(default=0)
    last_full_build_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Profiles built through event {self.watermark}"


class ProfileBuildRun(models.Model):
    """One committed build, written in the same transaction as the profiles it changed."""

    class Mode(models.TextChoices):
        FULL = "full", "Full rebuild"
        INCREMENTAL = "incremental", "Incremental"
        SHOPPER = "shopper", "One shopper"

    mode = models.CharField(max_length=12, choices=Mode.choices)
    from_event = models.BigIntegerField()
    to_event = models.BigIntegerField()
    profiles = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-finished_at", "-pk"]

    def __str__(self):
        return f"{self.get_mode_display()} ({self.from_event}, {self.to_event}]"


class EventStreamCursor(models.Model):
    """How far the Redis event stream has been copied into the Event table.

    Written in the same transaction as the copied rows, so a drain that dies after its insert
    and before it deletes the entries from Redis copies nothing twice on the next run.
    """

    stream = models.CharField(max_length=200, primary_key=True)
    last_id = models.CharField(max_length=40, blank=True, help_text="Last stream entry copied.")
    copied = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.stream} through {self.last_id or 'nothing'}"
