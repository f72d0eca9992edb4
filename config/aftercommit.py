"""Read-through cache fills that wait for the transaction they were computed in.

A value computed from the database inside an open transaction may rest on rows that are later
rolled back (an outreach send whose SMTP connection fails, a checkout that raises). Written to
the cache at once it would outlive them: the next page would show picks, counts or cards from
state that never existed, and no ``on_commit`` forget would run to clear it. So every
read-through fill of data read from the database goes through ``cache_fill``:

- outside a transaction (autocommit: a web request, a task step) the value is stored now;
- inside one, it is stored by ``transaction.on_commit``, so only once the rows it was computed
  from are committed; a rollback (of the transaction or of the savepoint the fill ran in)
  discards it. The caller still returns the value it computed, so code inside the transaction
  sees fresh, correct results; only the caching waits. Two reads in one transaction therefore
  both compute.

The other half is the forget: a service that changes data inside a transaction and forgets
the cached value only *now* leaves a window until the commit in which another process reads the
old rows and caches them again, for the whole timeout. ``forget`` runs the forget now and once
more after the commit (as ``shop.pagecache.storefront_changed`` does for its version). A reader
that read the old rows just before the commit can still fill after both; so a forget of plain
keys (``forget_keys``, ``config.cache.cache_forget``) leaves a short lease on each key, and the
fills here store nothing while it lasts.

Callbacks registered this way run in order with the ``on_commit`` forgets of the services
(``segment_cache_forget``, ``profile_cache_forget``...): a forget registered by a later write in
the same transaction runs after the fill and clears it, one registered earlier runs before it.

The transaction that pytest-django (Django's ``TestCase``) wraps around each test never commits;
it stands for autocommit, so fills in it are stored at once, as in production outside a
transaction. A test that opens its own ``transaction.atomic()`` sees the deferred behaviour.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, transaction

from .cache import cache_forget, cache_set_unless_leased


def in_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True while code (not only a test harness) holds a transaction open on ``using``.

    Atomic blocks opened by Django's ``TestCase`` for a test are marked ``_from_testcase``
    (Django uses the mark for its ``durable`` check); they are not counted.
    """
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return False
    return not all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def after_commit(store: Callable[[], object], using: str = DEFAULT_DB_ALIAS) -> None:
    """Run ``store`` (a cache write) now outside a transaction, else once it commits; never
    when it rolls back. ``store``'s errors are its own (the cache fails open)."""
    if in_transaction(using):
        transaction.on_commit(store, using=using)
    else:
        store()


def cache_fill(key: str, value, timeout: float | None) -> None:
    """Store ``value`` under ``key`` for ``timeout`` seconds now, or after the current
    transaction commits (see the module); discarded on rollback, and not stored while a recent
    forget of ``key`` holds its lease (``config.cache.cache_forget``)."""
    after_commit(lambda: cache_set_unless_leased({key: value}, timeout))


def cache_fill_many(mapping: dict, timeout: float | None) -> None:
    """``cache_fill`` for each item of ``mapping`` (key -> value), in one round trip."""
    if mapping:
        after_commit(lambda: cache_set_unless_leased(mapping, timeout))


def forget_keys(keys, using: str = DEFAULT_DB_ALIAS) -> None:
    """``forget`` the cache entries ``keys``, each with a lease (``config.cache.cache_forget``):
    dropped now and, inside a transaction, again after it commits; a fill computed from the rows
    as they were before is not stored meanwhile."""
    keys = list(keys)
    forget(lambda: cache_forget(keys), using=using)


def forget(drop: Callable[[], object], using: str = DEFAULT_DB_ALIAS) -> None:
    """Run ``drop`` (a cache delete or version bump) now and, inside a transaction, once more
    after it commits: a value cached meanwhile by another process from the rows as they were
    before the commit is dropped too. On rollback only the first run happened (harmless: the
    next read fills the cache again)."""
    drop()
    if in_transaction(using):
        transaction.on_commit(drop, using=using)
