"""Demo data of the outbox: its beat schedule (parked rows appear only while Redis is down)."""

from .schedules import ensure_schedules


def seed(*, stdout) -> None:
    created = ensure_schedules()
    stdout.write(f"taskoutbox: {created} schedules added")
