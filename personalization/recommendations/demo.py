"""Demo data of the recommendations: the schedules and a first refresh of the tables.

The demo shoppers' purchases and likes (seeded by shop and engagement) give the pairs; the
profile build (personalization.demo, which runs before) gives the affinities.
"""

from .schedules import ensure_schedules


def seed(*, stdout) -> None:
    from . import services

    created = ensure_schedules()
    result = services.recommendation_data_refresh()
    stdout.write(
        f"recommendations: {created} schedules added, {result['pairs']} product pairs, "
        f"{result['products']} products ranked by popularity"
    )
