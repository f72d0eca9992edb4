"""Write side of segments: saving rules, and materializing membership in set-based SQL.

Guarantees of ``segments_refresh``:
- The compiled rule tree of each segment is its target set; members not in it are deleted,
  shoppers in it but not members are inserted, and each entry and exit writes a history row
  with the segment's rule version, in the same transaction (PostgreSQL: a few set-based
  statements for every segment of the run together, see ``DIFF_SQL``).
- Refreshes are serialised per segment (PostgreSQL: a transaction-level advisory lock per
  segment, see ``refresh_lock``), so two runs never write duplicate history. Saving a segment
  never waits for a running refresh (no row lock on the segments is held while it runs): the
  save bumps the version and the next refresh applies it. Deleting a segment waits.
- A segment whose rules no longer compile is skipped and logged, never emptied.
- With ``user_ids`` only those shoppers are re-evaluated (after a profile build); RFM scores
  still use the cut points of every buyer.
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
# INSERT ... SELECT per segment: the compiled rule tree), the difference against the
# materialized membership is computed into a second temporary table by a read-only statement
# (hash anti-joins both ways), and plain statements then apply it: delete the leavers, insert
# the newcomers, write the history rows.
#
# Why not one statement with data-modifying CTEs (the earlier design): its anti-join read the
# membership table that the same statement was filling. On a fresh database (membership
# analyzed while empty: 0 pages) the planner chose a nested loop whose inner side re-scanned
# the membership for every target row; the rows inserted by the statement itself are invisible
# but still scanned, so "refresh from empty" went quadratic (235,770 target rows: minutes).
# Reading first and writing after leaves no plan that can scan a table while it grows.
TARGET_TABLE = "segments_refresh_target"
DIFF_TABLE = "segments_refresh_diff"

# The namespace (first key) of the per-segment transaction-level advisory locks a refresh takes
# (second key: the segment id). Two refreshes of one segment queue up; saving the segment does
# not wait (it takes no such lock), deleting it does.
REFRESH_LOCK_CLASS = 510_020

DIFF_SQL = """
INSERT INTO {diff} (segment_id, user_id, entered)
SELECT t.segment_id, t.user_id, true FROM {target} t
WHERE NOT EXISTS (SELECT 1 FROM {membership} m
                  WHERE m.segment_id = t.segment_id AND m.user_id = t.user_id)
UNION ALL
SELECT m.segment_id, m.user_id, false FROM {membership} m
WHERE m.segment_id = ANY(%(segments)s::integer[]) {scope_filter}
  AND NOT EXISTS (SELECT 1 FROM {target} t
                  WHERE t.segment_id = m.segment_id AND t.user_id = m.user_id)
"""

LEAVE_SQL = """
DELETE FROM {membership} m USING {diff} d
WHERE NOT d.entered AND m.segment_id = d.segment_id AND m.user_id = d.user_id
"""

ENTER_SQL = """
INSERT INTO {membership} (segment_id, user_id, entered_at, rule_version)
SELECT d.segment_id, d.user_id, %(now)s, v.version
FROM {diff} d
JOIN unnest(%(segments)s::integer[], %(versions)s::integer[]) AS v(segment_id, version)
    USING (segment_id)
WHERE d.entered
"""

HISTORY_SQL = """
INSERT INTO {history} (segment_id, user_id, action, at, rule_version)
SELECT d.segment_id, d.user_id, CASE WHEN d.entered THEN 'entered' ELSE 'left' END, %(now)s,
    v.version
FROM {diff} d
JOIN unnest(%(segments)s::integer[], %(versions)s::integer[]) AS v(segment_id, version)
    USING (segment_id)
ORDER BY d.entered, d.segment_id, d.user_id
"""

CHANGES_SQL = """
SELECT segment_id, entered, array_agg(user_id ORDER BY user_id) FROM {diff} GROUP BY 1, 2
"""


def segments_refresh(*, segment_ids=None, user_ids=None) -> RefreshResult:
    """Materialize the membership of the active segments (or ``segment_ids``).

    ``user_ids``: re-evaluate only these shoppers (others keep their membership).
    Returns counts; ``errors`` maps a segment slug to the message of a rule that no longer
    compiles (that segment is left as it was). Entries and exits are announced after commit
    (``segment.entered`` / ``segment.left`` webhooks) and the changed shoppers' cached segment
    ids are forgotten.

    On PostgreSQL the membership changes are one transaction: the segments' refresh locks are
    taken in id order (a second run waits, so history is never written twice), every target
    set is computed once, the difference is computed before anything is written and applied
    by three plain statements (see ``DIFF_SQL``); member counts and ``refreshed_at`` are
    written after it commits. Figure: ``python -m bench --only bench.segments`` (100,000
    shoppers, 22 built-in segments): 6-9 s from empty, 1.1-1.3 s steady on a 2-core machine
    at load 1-4 (the deferred foreign-key checks at commit are ~40 % of the first).
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


def refresh_lock(cursor, segment_ids) -> None:
    """Take the refresh lock of each segment, in id order (waits for a running refresh of any of
    them; released when the transaction ends). PostgreSQL only."""
    for segment_id in sorted(segment_ids):
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [REFRESH_LOCK_CLASS, segment_id])


def segments_hold_refresh(*, segment_ids) -> None:
    """Wait for the running refreshes of ``segment_ids`` and keep new ones out until the
    caller's transaction ends (call it inside ``transaction.atomic``: deleting a segment).
    PostgreSQL only; elsewhere it does nothing (refreshes there lock the segment rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            refresh_lock(cursor, segment_ids)


def _refresh_postgresql(segments, user_ids, result) -> None:
    with transaction.atomic():
        refreshed, counts, now = _refresh_postgresql_apply(segments, user_ids, result)
    if not refreshed:
        return
    # The segment rows are updated after the membership commits, in a transaction of their
    # own: an UPDATE inside the refresh would hold their row locks until it commits (the
    # deferred foreign-key checks of every new membership row run at commit), and an admin
    # saving a segment would wait for it. A delta (partial refresh) is applied in SQL, so a
    # concurrent save cannot lose it.
    full = user_ids is None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Segment._meta.db_table} s SET refreshed_at = %(now)s, "  # noqa: S608
            "member_count = CASE WHEN %(full)s THEN v.n ELSE GREATEST(0, s.member_count + v.n) END "
            "FROM unnest(%(ids)s::integer[], %(counts)s::integer[]) AS v(id, n) WHERE s.id = v.id",
            {
                "now": now,
                "full": full,
                "ids": [segment.pk for segment in refreshed],
                "counts": [counts[segment.pk] for segment in refreshed],
            },
        )
    for segment in refreshed:
        if full:
            segment.member_count = counts[segment.pk]
        else:
            segment.member_count = max(0, segment.member_count + counts[segment.pk])
        segment.refreshed_at = now


def _refresh_postgresql_apply(segments, user_ids, result):
    """The refresh's transaction: lock, snapshot, targets, difference, writes (PostgreSQL).

    Returns (refreshed segments, {segment id: member count (full run) or change (partial)},
    the run's time)."""
    with connection.cursor() as cursor:
        refresh_lock(cursor, list(segments.values_list("pk", flat=True)))
        # read after the locks: a run that waited sees the rules and membership of the run
        # before it (READ COMMITTED: every statement reads what has committed)
        locked = list(segments.order_by("pk"))
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        refresh_snapshot_create(cursor, user_ids=user_ids)
        env = Env(snapshot=True)
        if user_ids is not None:
            # the quintile cut points are the whole population's: the run's snapshot holds only
            # ``user_ids`` (cut points among them alone moved shoppers in and out of RFM cells)
            from .rules import _rfm_cuts

            env._rfm = _rfm_cuts(snapshot=False)
        env.rfm  # noqa: B018 - the RFM cut points, computed once for every segment of the run
        for table, columns in (
            (TARGET_TABLE, "segment_id integer NOT NULL, user_id integer NOT NULL"),
            (DIFF_TABLE, "segment_id integer NOT NULL, user_id integer NOT NULL, entered boolean"),
        ):
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS"
            )
            cursor.execute(f"TRUNCATE {table}")
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
            return [], {}, env.now
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
        tables = {
            "target": TARGET_TABLE,
            "diff": DIFF_TABLE,
            "membership": SegmentMembership._meta.db_table,
            "history": SegmentMembershipHistory._meta.db_table,
            "scope_filter": scope_filter,
        }
        if user_ids is None:
            # Fresh statistics for the materialized membership: analyzed while empty (a new
            # store, or the previous run emptied it) the planner takes it for empty and
            # anti-joins every target row against a sequential scan of it, quadratic in the
            # members (a 236k-member steady run sat for minutes). Sampling costs ~0.1 s.
            cursor.execute(f"ANALYZE {tables['membership']}")
        cursor.execute(DIFF_SQL.format(**tables), params)
        changes = {}
        if cursor.rowcount:
            cursor.execute(f"ANALYZE {DIFF_TABLE}")
            for sql in (LEAVE_SQL, ENTER_SQL, HISTORY_SQL):
                cursor.execute(sql.format(**tables), params)
            cursor.execute(CHANGES_SQL.format(**tables))
            changes = {(segment_id, entered): users for segment_id, entered, users in cursor}
        if user_ids is None:  # membership now equals the target set of each refreshed segment
            cursor.execute(
                f"SELECT segment_id, count(*) FROM {TARGET_TABLE} GROUP BY segment_id"  # noqa: S608
            )
            totals = dict(cursor.fetchall())
    counts = {}
    for segment in refreshed:
        entered = list(changes.get((segment.pk, True)) or [])
        left = list(changes.get((segment.pk, False)) or [])
        counts[segment.pk] = (
            totals.get(segment.pk, 0) if user_ids is None else len(entered) - len(left)
        )
        _count_changes(segment, entered, left, result)
    return refreshed, counts, env.now


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

    The row is locked against other edits (FOR NO KEY UPDATE: it does not wait for a running
    refresh, whose foreign-key checks only share the key); a refresh running at the same time
    read the old rules whole and the next one applies the new version. Raises
    Segment.DoesNotExist, SegmentError (bad rule, slug taken, built-in slug).
    """
    segment = Segment.objects.select_for_update(no_key=True).get(pk=segment_id)
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
    (SegmentError): deactivate them instead. Raises Segment.DoesNotExist.

    Waits for a running refresh of the segment (its refresh lock), which would otherwise
    insert members of a segment that no longer exists."""
    segments_hold_refresh(segment_ids=[segment_id])
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
