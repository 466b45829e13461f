"""Stock rows are the most-updated rows in the system (every reservation rewrites one): let those
updates stay HOT — on the same page, entering no index.

- The single-column product and warehouse indexes go: the unique (product, warehouse) index and
  stocklevel_wh_product_idx serve the same lookups, and a non-HOT update enters every index.
- fillfactor 50 leaves half of each page free for new row versions. It applies to pages written
  from now on; `VACUUM FULL inventory_stocklevel` (an exclusive lock while it copies the table)
  applies it to existing ones.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0003_require_reserved_function'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stocklevel',
            name='product',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='stock_levels', to='inventory.product'),
        ),
        migrations.AlterField(
            model_name='stocklevel',
            name='warehouse',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='stock_levels', to='inventory.warehouse'),
        ),
        migrations.RunSQL(
            "ALTER TABLE inventory_stocklevel SET (fillfactor = 50)",
            "ALTER TABLE inventory_stocklevel RESET (fillfactor)",
        ),
    ]
