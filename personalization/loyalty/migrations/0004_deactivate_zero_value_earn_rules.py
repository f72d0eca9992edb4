"""Deactivate earn rules whose benefit takes nothing off (or more than everything).

``rules.benefit_problem`` refuses a percentage or an amount off that is not above zero (and a
percentage above 100) for new rules; rules saved before that check could still issue
zero-value coupons. The earning run skips them too (``coupons_issue_earned``); this switches
them off so the admin shows them as inactive. The check is copied here, not imported: a
migration must not change when the code does. Reversing it does nothing (which rules were
active before cannot be told apart from those staff switched off).
"""

import logging

from django.db import migrations
from django.db.models import Q

logger = logging.getLogger(__name__)

VALUED = ("percentage", "fixed")  # the benefits that take a value (free shipping takes none)


def deactivate(apps, schema_editor):
    EarnRule = apps.get_model("loyalty", "EarnRule")
    refused = EarnRule.objects.filter(is_active=True).filter(
        Q(benefit_type__in=VALUED, benefit_value__lte=0)
        | Q(benefit_type="percentage", benefit_value__gt=100)
    )
    names = list(refused.values_list("pk", "name"))
    if names:
        refused.update(is_active=False)
        logger.warning("deactivated earn rules that would issue zero-value coupons: %s", names)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_coupon_indexes_for_bulk_issue")]

    operations = [migrations.RunPython(deactivate, migrations.RunPython.noop, elidable=True)]
