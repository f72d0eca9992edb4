"""The task outbox: calls parked while the broker was down, published again when it is back.

``task_park`` is called by ``config.celery.Task.apply_async`` only; ``parked_publish`` by the
beat task ``taskoutbox.publish_parked`` (every 30 s). Delivery is at least once: a row is
deleted in the transaction that claimed it, after its publish, so a crash between the two
publishes it again on the next run. Every Agora task is idempotent, so that is harmless.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import ParkedTask

logger = logging.getLogger("agora.tasks")

#: Publishing options kept with a parked call; the others (task_id, producer, link ...) are
#: either regenerated on publish or not used by Agora.
KEPT_OPTIONS = (
    "queue",
    "routing_key",
    "exchange",
    "priority",
    "retries",
    "time_limit",
    "soft_time_limit",
    "shadow",
)


def _absolute(value, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return now + timedelta(seconds=value)
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _plain_options(options: dict, now: datetime) -> tuple[dict, datetime | None]:
    kept = {}
    for key in KEPT_OPTIONS:
        value = options.get(key)
        if value is None:
            continue
        if key in ("queue", "exchange") and not isinstance(value, str):
            value = getattr(value, "name", str(value))  # a kombu Queue / Exchange
        kept[key] = value
    expires = _absolute(options.get("expires"), now)
    if expires is not None:
        kept["expires"] = expires.isoformat()
    eta = _absolute(options.get("eta"), now)
    if eta is None and options.get("countdown") is not None:
        eta = now + timedelta(seconds=float(options["countdown"]))
    return kept, eta


def task_park(*, name: str, args, kwargs, options: dict, error: BaseException | str) -> bool:
    """Keep one task call that the broker refused, as a ``ParkedTask`` row; True if kept.

    ``args`` (a list/tuple or None), ``kwargs`` (a dict or None) are stored as JSON (the
    broker's serializer is JSON too, and every Agora task takes ids); dates, decimals and UUIDs
    become strings (``DjangoJSONEncoder``), which a task taking such values must accept.
    ``options`` are
    ``apply_async``'s keyword options: ``countdown``/``eta`` become the absolute ``eta``,
    ``expires`` an absolute time; ``KEPT_OPTIONS`` are stored, the rest dropped.

    Inside an atomic block the row belongs to that transaction (a rolled back request parks
    nothing, as its ``delay`` would have run for data that never existed). Never raises: when
    the call cannot be stored either (the database is unreachable too, or an argument is not
    JSON), it is logged at ERROR with its arguments and lost; nothing else can be done then.
    """
    now = timezone.now()
    try:
        plain_args = json.loads(json.dumps(list(args or ()), cls=DjangoJSONEncoder))
        plain_kwargs = json.loads(json.dumps(dict(kwargs or {}), cls=DjangoJSONEncoder))
        kept, eta = _plain_options(options or {}, now)
        json.dumps(kept)
        ParkedTask.objects.create(
            task=name,
            args=plain_args,
            kwargs=plain_kwargs,
            options=kept,
            eta=eta,
            error=f"Broker unreachable: {error}"[:300],
            parked_at=now,
        )
    except Exception:
        logger.exception(
            "task %s LOST: broker unreachable (%s) and it could not be parked; args=%r kwargs=%r",
            name,
            error,
            args,
            kwargs,
        )
        return False
    logger.warning("task %s parked in the outbox (broker unreachable): %s", name, error)
    return True


def _publish(row: ParkedTask) -> None:
    """Publish one parked call; raises ``BROKER_DOWN`` errors, ``NotRegistered`` for a task this
    process does not know."""
    from config.celery import app

    task = app.tasks[row.task]
    options = dict(row.options)
    now = timezone.now()
    if "expires" in options:
        options["expires"] = parse_datetime(options["expires"])
    if row.eta is not None and row.eta > now:
        options["eta"] = row.eta
    task.publish(args=row.args, kwargs=row.kwargs, **options)


def parked_publish(*, batch: int = 100, limit: int = 5000) -> int:
    """Publish parked task calls, oldest first; returns how many were published.

    Rows are claimed ``batch`` at a time with ``SELECT … FOR UPDATE SKIP LOCKED``, so drainers
    running at once (two beat runs, a manual run) never publish the same row twice; each row
    is deleted in its claiming transaction once published. Stops at the first ``BROKER_DOWN``
    (the broker is still down: the rest stay parked for the next run), when nothing is left,
    or after ``limit`` rows. A row that cannot be published for another reason (a task name
    no longer registered, an error raised by an eager run) keeps its row with the reason in
    ``error`` (visible in the admin) and is skipped; the others go on.
    """
    from config.celery import BROKER_DOWN

    published = 0
    after = 0
    while published < limit:
        down = False
        with transaction.atomic():
            rows = list(
                ParkedTask.objects.select_for_update(skip_locked=True)
                .filter(pk__gt=after)
                .order_by("pk")[: min(batch, limit - published)]
            )
            done, failed = [], {}
            for row in rows:
                after = row.pk
                try:
                    _publish(row)
                except BROKER_DOWN as exc:
                    logger.warning("outbox: broker still unreachable (%s); %s left", exc, row)
                    down = True
                    break
                except Exception as exc:
                    logger.exception("outbox: could not publish %s", row)
                    failed[row.pk] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                done.append(row.pk)
            ParkedTask.objects.filter(pk__in=done).delete()
            for pk, error in failed.items():
                ParkedTask.objects.filter(pk=pk).update(error=error)
        published += len(done)
        if down or len(rows) < batch:
            break
    if published:
        logger.info("outbox: %d parked task(s) published", published)
    return published
