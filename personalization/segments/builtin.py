"""The segments that ship with the store (``is_builtin``): created by a data migration and the
demo seeder; existing rows are left alone so staff edits survive.
"""

from .rule_types import RFM_CELLS

AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64"]
INTERESTS = ["running", "hiking", "coffee", "gaming", "yoga", "cooking", "jazz", "sneakers"]


def _rule(rule_type, **params):
    return {"op": "and", "rules": [{"type": rule_type, "params": params}]}


def builtin_segments() -> list[dict]:
    specs = [
        {
            "slug": "new-shoppers",
            "name": "New shoppers",
            "description": "Joined in the last 30 days (needs no profile).",
            "rules": _rule("new_shopper", days=30),
        },
        {
            "slug": "big-spenders",
            "name": "Big spenders",
            "description": "Top fifth by money spent (RFM monetary score 5).",
            "rules": _rule("rfm_score", dimension="m", min=5, max=5),
        },
        {
            "slug": "lapsed",
            "name": "Lapsed",
            "description": "Bought before, but not in the last 90 days.",
            "rules": _rule("recency", min=90),
        },
    ]
    for cell, (name, _boxes, _words) in RFM_CELLS.items():
        specs.append(
            {
                "slug": f"rfm-{cell.replace('_', '-')}",
                "name": f"RFM: {name}",
                "description": f"The {name.lower()} cell of the recency x frequency grid.",
                "rules": _rule("rfm_cell", cell=cell),
            }
        )
    for band in AGE_BANDS:
        specs.append(
            {
                "slug": f"age-{band}",
                "name": f"Age {band.replace('-', '–')}",
                "description": "Shared this age band (consent for age stands now).",
                "rules": _rule("age_band", bands=[band]),
            }
        )
    for interest in INTERESTS:
        specs.append(
            {
                "slug": f"interest-{interest}",
                "name": f"Into {interest}",
                "description": "Shared this interest (consent for interests stands now).",
                "rules": _rule("interest", interests=[interest]),
            }
        )
    return specs


def ensure_builtin_segments(*, Segment=None) -> int:
    """Create the missing built-in segments; returns how many exist afterwards."""
    if Segment is None:
        from .models import Segment
    for spec in builtin_segments():
        Segment.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "rules": spec["rules"],
                "is_builtin": True,
            },
        )
    return Segment.objects.filter(is_builtin=True).count()
