"""Write side of segments: saving rules, and materializing membership in set-based SQL.

Guarantees of ``segments_refresh``:
- Per segment one statement (PostgreSQL): the compiled rule tree is the target set; members not
  in it are deleted and shoppers in it but not members are inserted, and each entry and exit
  writes a history row with the segment's rule version, in the same statement.
- Refreshes are serialised per segment (row lock on the segment), so two runs never write
  duplicate history; a segment whose rules no longer compile is skipped and logged, never
  emptied.
- With ``user_ids`` only those shoppers are re-evaluated (after a profile build).
"""

import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.utils import timezone

from .exceptions import SegmentError
from .models import Segment, SegmentMembership, SegmentMembershipHistory
from .rules import Env, RuleError, tree_clean, tree_compile

logger = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    segments: int = 0
    entered: int = 0
    left: int = 0
    seconds: float = 0.0
    errors: dict = field(default_factory=dict)
    changed_user_ids: set = field(default_factory=set, repr=False)


def segment_save_rules(*, segment: Segment, rules) -> Segment:
    """Validate and store a rule tree; bumps the version when the rules change.

    Raises SegmentError with a message naming the bad rule (cycles included).
    """
    try:
        cleaned = tree_clean(rules)
        tree_compile(cleaned, env=Env(stack=(segment.slug,)))
    except RuleError as error:
        raise SegmentError(str(error)) from None
    if segment.pk is not None and cleaned != segment.rules:
        segment.version += 1
    segment.rules = cleaned
    segment.save()
    return segment


def segment_query(segment: Segment, *, env: Env | None = None):
    """The users the segment's rules match now (a QuerySet: one SQL query)."""
    env = env or Env()
    q = tree_compile(segment.rules, env=env.nested(segment.slug))
    return get_user_model().objects.filter(q, is_active=True)


# PostgreSQL: the targets of every segment of the run go into one temporary table (one
# INSERT ... SELECT per segment: the compiled rule tree), then one statement settles the whole
# difference against the materialized membership (hash anti-joins both ways) and writes the
# history rows. A per-segment statement paid a membership scan and two anti-joins 22 times over.
TARGET_TABLE = "segments_refresh_target"

DIFF_SQL = """
WITH versions AS (
    SELECT * FROM unnest(%(segments)s::integer[], %(versions)s::integer[]) AS v(segment_id, version)
),
entered AS (
    INSERT INTO {membership} (segment_id, user_id, entered_at, rule_version)
    SELECT t.segment_id, t.user_id, %(now)s, v.version
    FROM {target} t JOIN versions v USING (segment_id)
    WHERE NOT EXISTS (SELECT 1 FROM {membership} m
                      WHERE m.segment_id = t.segment_id AND m.user_id = t.user_id)
    ON CONFLICT (segment_id, user_id) DO NOTHING
    RETURNING segment_id, user_id, rule_version
),
left_ AS (
    DELETE FROM {membership} m
    WHERE m.segment_id = ANY(%(segments)s::integer[]) {scope_filter}
      AND NOT EXISTS (SELECT 1 FROM {target} t
                      WHERE t.segment_id = m.segment_id AND t.user_id = m.user_id)
    RETURNING m.segment_id, m.user_id
),
h_in AS (
    INSERT INTO {history} (segment_id, user_id, action, at, rule_version)
    SELECT segment_id, user_id, 'entered', %(now)s, rule_version FROM entered
),
h_out AS (
    INSERT INTO {history} (segment_id, user_id, action, at, rule_version)
    SELECT l.segment_id, l.user_id, 'left', %(now)s, v.version
    FROM left_ l JOIN versions v USING (segment_id)
)
SELECT segment_id, 'entered', array_agg(user_id ORDER BY user_id) FROM entered GROUP BY 1
UNION ALL
SELECT segment_id, 'left', array_agg(user_id ORDER BY user_id) FROM left_ GROUP BY 1
"""


def segments_refresh(*, segment_ids=None, user_ids=None) -> RefreshResult:
    """Materialize the membership of the active segments (or ``segment_ids``).

    ``user_ids``: re-evaluate only these shoppers (others keep their membership).
    Returns counts; ``errors`` maps a segment slug to the message of a rule that no longer
    compiles (that segment is left as it was). Entries and exits are announced after commit
    (``segment.entered`` / ``segment.left`` webhooks) and the changed shoppers' cached segment
    ids are forgotten.

    On PostgreSQL the run is one transaction: the segments are locked in primary-key order
    (a second run waits, so history is never written twice), every target set is computed
    once, and one statement applies the whole difference (see ``DIFF_SQL``). Figure: ``python
    -m bench --only bench.segments`` (100,000 shoppers, 22 built-in segments).
    """
    import time

    started = time.perf_counter()
    result = RefreshResult()
    segments = Segment.objects.filter(is_active=True).order_by("pk")
    if segment_ids is not None:
        segments = segments.filter(pk__in=list(segment_ids))
    user_ids = sorted({int(u) for u in user_ids}) if user_ids is not None else None
    if user_ids == []:
        return result
    if connection.vendor == "postgresql":
        _refresh_postgresql(segments, user_ids, result)
    else:
        env = Env()
        env.rfm  # noqa: B018 - the RFM cut points, computed once for every segment of the run
        _refresh_each(segments, user_ids, env, result)
    changed = sorted(result.changed_user_ids)
    if changed:
        from .selectors import segment_cache_forget

        transaction.on_commit(lambda: segment_cache_forget(user_ids=changed))
    result.seconds = time.perf_counter() - started
    return result


def _targets(segment, env, user_ids, result):
    """The segment's compiled target QuerySet, or None (rule error recorded in ``result``)."""
    try:
        target = segment_query(segment, env=env)
    except RuleError as error:
        logger.warning("segment %s not refreshed: %s", segment.slug, error)
        result.errors[segment.slug] = str(error)
        return None
    if user_ids is not None:
        target = target.filter(pk__in=user_ids)
    return target


PROFILE_SNAPSHOT_SQL = """
CREATE TEMPORARY TABLE {snapshot} ON COMMIT DROP AS
SELECT user_id, order_count, monetary, last_purchase_at, sentiment_sum, sentiment_count,
    intents, demographics
FROM {profile} p WHERE true {user_filter}
"""

# The latest consent record of each (shopper, category), kept when it is a grant: what
# ``rules.consent_granted_q`` asks per shopper, answered for everyone in one pass.
CONSENT_SNAPSHOT_SQL = """
CREATE TEMPORARY TABLE {snapshot} ON COMMIT DROP AS
SELECT user_id, category FROM (
    SELECT DISTINCT ON (user_id, category) user_id, category, action
    FROM {consent} p WHERE true {user_filter}
    ORDER BY user_id, category, id DESC
) latest WHERE action = 'granted'
"""


def refresh_snapshot_create(cursor, *, user_ids=None) -> None:
    """Copy the profile columns and standing consents the rules read into the run's temporary
    tables (dropped at commit); ``user_ids`` restricts the copies to those shoppers."""
    from personalization.models import PreferenceProfile
    from social.models import ConsentRecord

    from .models import ConsentSnapshot, ProfileSnapshot

    user_filter = "AND p.user_id = ANY(%(user_ids)s::integer[])" if user_ids is not None else ""
    params = {"user_ids": user_ids} if user_ids is not None else {}
    for sql, snapshot, source in (
        (PROFILE_SNAPSHOT_SQL, ProfileSnapshot, PreferenceProfile),
        (CONSENT_SNAPSHOT_SQL, ConsentSnapshot, ConsentRecord),
    ):
        table = snapshot._meta.db_table
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            sql.format(
                snapshot=table,
                profile=source._meta.db_table,
                consent=source._meta.db_table,
                user_filter=user_filter,
            ),
            params,
        )
    cursor.execute(
        f"CREATE UNIQUE INDEX ON {ProfileSnapshot._meta.db_table} (user_id)"  # noqa: S608
    )
    # statistics for the planner's row estimates; the JSON columns are left out (sampling
    # them cost as much as every demographic rule together)
    cursor.execute(
        f"ANALYZE {ProfileSnapshot._meta.db_table} "
        "(user_id, order_count, monetary, last_purchase_at, sentiment_count)"
    )
    cursor.execute(f"ANALYZE {ConsentSnapshot._meta.db_table}")


@transaction.atomic
def _refresh_postgresql(segments, user_ids, result) -> None:
    locked = list(segments.select_for_update().order_by("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        refresh_snapshot_create(cursor, user_ids=user_ids)
        env = Env(snapshot=True)
        env.rfm  # noqa: B018 - the RFM cut points, computed once for every segment of the run
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {TARGET_TABLE} "
            "(segment_id integer NOT NULL, user_id integer NOT NULL) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {TARGET_TABLE}")
        refreshed = []
        for segment in locked:
            target = _targets(segment, env, user_ids, result)
            if target is None:
                continue
            refreshed.append(segment)
            try:
                sql, params = target.values("id").query.sql_with_params()
            except EmptyResultSet:  # a rule that matches nobody (e.g. RFM before any order)
                continue
            cursor.execute(
                f"INSERT INTO {TARGET_TABLE} (segment_id, user_id) "  # noqa: S608
                f"SELECT %s, s.id FROM ({sql}) s",
                [segment.pk, *params],
            )
        if not refreshed:
            return
        cursor.execute(f"ANALYZE {TARGET_TABLE}")
        params = {
            "segments": [s.pk for s in refreshed],
            "versions": [s.version for s in refreshed],
            "now": env.now,
        }
        scope_filter = ""
        if user_ids is not None:
            scope_filter = "AND m.user_id = ANY(%(user_ids)s::integer[])"
            params["user_ids"] = user_ids
        cursor.execute(
            DIFF_SQL.format(
                target=TARGET_TABLE,
                membership=SegmentMembership._meta.db_table,
                history=SegmentMembershipHistory._meta.db_table,
                scope_filter=scope_filter,
            ),
            params,
        )
        changes = {(segment_id, action): users for segment_id, action, users in cursor.fetchall()}
        counts = {}
        if user_ids is None:  # membership now equals the target set of each refreshed segment
            cursor.execute(
                f"SELECT segment_id, count(*) FROM {TARGET_TABLE} GROUP BY segment_id"  # noqa: S608
            )
            counts = dict(cursor.fetchall())
    for segment in refreshed:
        entered = list(changes.get((segment.pk, "entered")) or [])
        left = list(changes.get((segment.pk, "left")) or [])
        if user_ids is None:
            segment.member_count = counts.get(segment.pk, 0)
        else:
            segment.member_count = max(0, segment.member_count + len(entered) - len(left))
        segment.refreshed_at = env.now
        _count_changes(segment, entered, left, result)
    Segment.objects.bulk_update(refreshed, ["member_count", "refreshed_at"])


def _count_changes(segment, entered, left, result) -> None:
    result.segments += 1
    result.entered += len(entered)
    result.left += len(left)
    result.changed_user_ids.update(entered, left)
    _on_commit_changes(segment, entered, left)


def _refresh_each(segments, user_ids, env, result) -> None:
    """Elsewhere (SQLite, the embedded demo): one transaction per segment."""
    for segment_id in segments.values_list("pk", flat=True):
        with transaction.atomic():
            segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
            if segment is None or not segment.is_active:
                continue
            target = _targets(segment, env, user_ids, result)
            if target is None:
                continue
            entered, left = _refresh_one(segment, target, user_ids, env.now)
            if user_ids is None:
                segment.member_count = SegmentMembership.objects.filter(segment=segment).count()
            else:
                segment.member_count = max(0, segment.member_count + len(entered) - len(left))
            segment.refreshed_at = env.now
            segment.save(update_fields=["member_count", "refreshed_at"])
            _count_changes(segment, entered, left, result)


def _refresh_one(segment, target, user_ids, now) -> tuple[list[int], list[int]]:
    """The set difference for one segment in a few queries (databases other than PostgreSQL)."""
    # Elsewhere (SQLite, the embedded demo): the same set difference in two queries.
    wanted = set(target.values_list("pk", flat=True))
    members = SegmentMembership.objects.filter(segment=segment)
    if user_ids is not None:
        members = members.filter(user_id__in=user_ids)
    current = set(members.values_list("user_id", flat=True))
    entered, left = sorted(wanted - current), sorted(current - wanted)
    SegmentMembership.objects.filter(segment=segment, user_id__in=left).delete()
    SegmentMembership.objects.bulk_create(
        [
            SegmentMembership(
                segment=segment, user_id=u, entered_at=now, rule_version=segment.version
            )
            for u in entered
        ],
        ignore_conflicts=True,
    )
    SegmentMembershipHistory.objects.bulk_create(
        [
            SegmentMembershipHistory(
                segment=segment, user_id=u, action=action, at=now, rule_version=segment.version
            )
            for users, action in ((entered, "entered"), (left, "left"))
            for u in users
        ]
    )
    return entered, left


def _on_commit_changes(segment, entered, left) -> None:
    """Tell the outside world who entered and left: one ``segment.entered`` /
    ``segment.left`` webhook event per customer (ids only), written in the refresh's
    transaction and delivered after commit (see webhooks.services)."""
    if not entered and not left:
        return
    from webhooks.services import webhook_events_emit

    at = timezone.now()
    for users, event in ((entered, "segment.entered"), (left, "segment.left")):
        if users:
            webhook_events_emit(
                event=event,
                payloads=[
                    {
                        "segment_id": segment.pk,
                        "segment_slug": segment.slug,
                        "customer_id": user_id,
                        "at": at,
                    }
                    for user_id in users
                ],
            )


def segments_refresh_after_build(*, user_ids, full: bool) -> RefreshResult:
    """Called after a profile build: all shoppers after a full build, else the changed ones."""
    return segments_refresh(user_ids=None if full else user_ids)


def segment_refresh_now(*, segment: Segment) -> RefreshResult:
    return segments_refresh(segment_ids=[segment.pk])


def timestamp():
    return timezone.now()


_SEGMENT_FIELDS = ("name", "slug", "description", "is_active")


@transaction.atomic
def segment_create(
    *, name: str, slug: str, rules, description: str = "", is_active: bool = True
) -> Segment:
    """Create a segment from a rule tree (validated as the admin validates it).

    Raises SegmentError naming the bad rule, or when the slug is taken. Membership is filled by
    the next refresh (or ``segment_refresh_now``).
    """
    if Segment.objects.filter(slug=slug).exists():
        raise SegmentError(f"A segment with the slug “{slug}” already exists.")
    segment = Segment(name=name, slug=slug, description=description, is_active=is_active)
    return segment_save_rules(segment=segment, rules=rules)


@transaction.atomic
def segment_update(*, segment_id: int, rules=None, **fields) -> Segment:
    """Change a segment's fields (``name``, ``slug``, ``description``, ``is_active``) and, when
    ``rules`` is given, its rule tree (the version is bumped when the rules change).

    The row is locked, so a refresh running at the same time sees the old or the new rules,
    never half. Raises Segment.DoesNotExist, SegmentError (bad rule, slug taken, built-in slug).
    """
    segment = Segment.objects.select_for_update().get(pk=segment_id)
    unknown = set(fields) - set(_SEGMENT_FIELDS)
    if unknown:
        raise SegmentError("Unknown segment fields: " + ", ".join(sorted(unknown)))
    slug = fields.get("slug", segment.slug)
    if slug != segment.slug:
        if segment.is_builtin:
            raise SegmentError("A built-in segment keeps its slug.")
        if Segment.objects.filter(slug=slug).exclude(pk=segment.pk).exists():
            raise SegmentError(f"A segment with the slug “{slug}” already exists.")
    for name, value in fields.items():
        setattr(segment, name, value)
    return segment_save_rules(segment=segment, rules=segment.rules if rules is None else rules)


@transaction.atomic
def segment_delete(*, segment_id: int) -> None:
    """Delete a segment with its membership and history. Built-in segments are kept
    (SegmentError): deactivate them instead. Raises Segment.DoesNotExist."""
    segment = Segment.objects.select_for_update().get(pk=segment_id)
    if segment.is_builtin:
        raise SegmentError("A built-in segment cannot be deleted; deactivate it instead.")
    members = list(
        SegmentMembership.objects.filter(segment=segment).values_list("user_id", flat=True)
    )
    segment.delete()
    if members:
        from .selectors import segment_cache_forget

        transaction.on_commit(lambda: segment_cache_forget(user_ids=members))
