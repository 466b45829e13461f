"""StockLevel.available: on_hand - reserved as a stored generated column, the one definition
of free stock (read by inventory.selectors and by the reservation SQL).

Stored (PostgreSQL has no virtual generated columns before 18) and not indexed, so a
reservation's update stays HOT (migration 0004). Adding it rewrites inventory_stocklevel under
an ACCESS EXCLUSIVE lock; the rewrite also packs existing pages to fillfactor 50.
"""

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0005_input_bounds_iso_country'),
    ]

    operations = [
        migrations.AddField(
            model_name='stocklevel',
            name='available',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(models.F('on_hand'), '-', models.F('reserved')), output_field=models.IntegerField(), verbose_name='available'),
        ),
    ]
