"""A discount line is positive: the "−€0.00" lines older orders got from a code that took
nothing off are deleted (they changed no total), then the database refuses new ones."""

from django.db import migrations, models


def delete_zero_lines(apps, schema_editor):
    apps.get_model("shop", "OrderDiscount").objects.filter(amount__lte=0).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0004_order_status_emailed"),
    ]

    operations = [
        migrations.RunPython(delete_zero_lines, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="orderdiscount",
            name="order_discount_not_negative",
        ),
        migrations.AddConstraint(
            model_name="orderdiscount",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="order_discount_positive"
            ),
        ),
    ]
