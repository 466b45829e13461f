"""Order numbers past SO-9999999: lpad() cut them to 7 digits (SO-10000000 became SO-1000000).

The default now calls orders_next_order_number(), which pads to 7 digits and never truncates.
"""

from django.db import migrations

from orders.migrations import _numbers


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_salesorder_fulfil_permission")]

    operations = [
        migrations.RunSQL(
            _numbers.FUNCTION_SQL
            + "ALTER TABLE orders_salesorder ALTER COLUMN number SET DEFAULT orders_next_order_number();",
            "ALTER TABLE orders_salesorder ALTER COLUMN number SET DEFAULT "
            "'SO-' || lpad(nextval('orders_salesorder_number_seq')::text, 7, '0');",
        ),
    ]
