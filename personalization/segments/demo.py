"""Demo data of segments: the built-in segments, the schedule and a first refresh."""


def seed(*, stdout) -> None:
    from . import builtin, services
    from .schedules import ensure_schedules

    created = ensure_schedules()
    segments = builtin.ensure_builtin_segments()
    result = services.segments_refresh()
    stdout.write(
        f"segments: {created} schedules added, {segments} built-in segments, "
        f"{result.entered} memberships entered"
    )
