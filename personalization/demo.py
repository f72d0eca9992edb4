"""Demo data of personalization: the beat schedules and a first build of the demo profiles."""

from .schedules import ensure_schedules


def seed(*, stdout) -> None:
    created = ensure_schedules()
    from . import services

    result = services.profile_build_full()
    stdout.write(
        f"personalization: {created} schedules added, {result.profiles} profiles built "
        f"through event {result.to_event}"
    )
