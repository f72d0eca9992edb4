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
    q = tree_compile(segment.rules, env=Env(now=env.now, stack=(segment.slug,), _rfm=env._rfm))
    return get_user_model().objects.filter(q, is_active=True)


REFRESH_SQL = """
WITH target AS ({target}),
scope AS (SELECT m.id, m.user_id FROM {membership} m
          WHERE m.segment_id = %(segment)s {scope_filter}),
entered AS (
    INSERT INTO {membership} (segment_id, user_id, entered_at, rule_version)
    SELECT %(segment)s, t.id, %(now)s, %(version)s FROM target t
    WHERE NOT EXISTS (SELECT 1 FROM scope s WHERE s.user_id = t.id)
    ON CONFLICT (segment_id, user_id) DO NOTHING
    RETURNING user_id
),
left_ AS (
    DELETE FROM {membership} m USING scope s
    WHERE m.id = s.id AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = s.user_id)
    RETURNING m.user_id
),
h_in AS (
    INSERT INTO {history} (segment_id, user_id, action, at, rule_version)
    SELECT %(segment)s, user_id, 'entered', %(now)s, %(version)s FROM entered
),
h_out AS (
    INSERT INTO {history} (segment_id, user_id, action, at, rule_version)
    SELECT %(segment)s, user_id, 'left', %(now)s, %(version)s FROM left_
)
SELECT (SELECT array_agg(user_id) FROM entered), (SELECT array_agg(user_id) FROM left_)
"""


def segments_refresh(*, segment_ids=None, user_ids=None) -> RefreshResult:
    """Materialize the membership of the active segments (or ``segment_ids``).

    ``user_ids``: re-evaluate only these shoppers (others keep their membership).
    Returns counts; ``errors`` maps a segment slug to the message of a rule that no longer
    compiles (that segment is left as it was).
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
    env = Env()
    env.rfm  # noqa: B018 - the RFM cut points, computed once for every segment of the run
    for segment_id in segments.values_list("pk", flat=True):
        with transaction.atomic():
            segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
            if segment is None or not segment.is_active:
                continue
            try:
                target = segment_query(segment, env=env)
            except RuleError as error:
                logger.warning("segment %s not refreshed: %s", segment.slug, error)
                result.errors[segment.slug] = str(error)
                continue
            if user_ids is not None:
                target = target.filter(pk__in=user_ids)
            entered, left = _refresh_one(segment, target, user_ids, env.now)
            if user_ids is None:
                segment.member_count = SegmentMembership.objects.filter(segment=segment).count()
            else:
                segment.member_count = max(0, segment.member_count + len(entered) - len(left))
            segment.refreshed_at = env.now
            segment.save(update_fields=["member_count", "refreshed_at"])
            result.segments += 1
            result.entered += len(entered)
            result.left += len(left)
            result.changed_user_ids.update(entered, left)
            _on_commit_changes(segment, entered, left)
    changed = sorted(result.changed_user_ids)
    if changed:
        from .selectors import segment_cache_forget

        transaction.on_commit(lambda: segment_cache_forget(user_ids=changed))
    result.seconds = time.perf_counter() - started
    return result


def _refresh_one(segment, target, user_ids, now) -> tuple[list[int], list[int]]:
    if connection.vendor == "postgresql":
        try:
            target_sql, target_params = target.values("id").query.sql_with_params()
        except EmptyResultSet:  # a rule that matches nobody (e.g. RFM before any order)
            target_sql, target_params = "SELECT NULL::integer AS id WHERE false", ()
        params = {"segment": segment.pk, "now": now, "version": segment.version}
        scope_filter = ""
        if user_ids is not None:
            scope_filter = "AND m.user_id = ANY(%(user_ids)s)"
            params["user_ids"] = user_ids
        # The compiled query uses positional %s; give it names so one style serves both.
        names = []
        for i, value in enumerate(target_params):
            params[f"t{i}"] = value
            names.append(f"%(t{i})s")
        target_sql = target_sql.replace("%%", "\0") % tuple(names)
        target_sql = target_sql.replace("\0", "%%")
        sql = REFRESH_SQL.format(
            target=target_sql,
            membership=SegmentMembership._meta.db_table,
            history=SegmentMembershipHistory._meta.db_table,
            scope_filter=scope_filter,
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql, params)
            entered, left = cursor.fetchone()
        return list(entered or []), list(left or [])
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
    """Tell the outside world who entered and left, after commit: one ``segment.entered`` /
    ``segment.left`` webhook message per shopper (payload as ``webhooks.catalogue`` registers it:
    segment id and slug, customer id, time). Nothing is written when no endpoint subscribes.
    """
    if not entered and not left:
        return
    try:
        from webhooks.services import webhook_event_emit
    except ImportError:  # the webhooks app is optional
        return
    at = segment.refreshed_at or timezone.now()
    segment_id, slug = segment.pk, segment.slug

    def emit(event, user_ids):
        from webhooks.services import subscribed_events

        if event not in subscribed_events():  # one cache read when nobody listens
            return
        for user_id in user_ids:
            webhook_event_emit(
                event=event,
                payload={
                    "segment_id": segment_id,
                    "segment_slug": slug,
                    "customer_id": user_id,
                    "at": at,
                },
            )

    for users, event in ((entered, "segment.entered"), (left, "segment.left")):
        if users:
            transaction.on_commit(lambda e=event, u=list(users): emit(e, u))


def segments_refresh_after_build(*, user_ids, full: bool) -> RefreshResult:
    """Called after a profile build: all shoppers after a full build, else the changed ones."""
    return segments_refresh(user_ids=None if full else user_ids)


def segment_refresh_now(*, segment: Segment) -> RefreshResult:
    return segments_refresh(segment_ids=[segment.pk])


def timestamp():
    return timezone.now()
