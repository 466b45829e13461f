"""Order numbers past SO-9999999: lpad() cut them to 7 digits (SO-10000000 became SO-1000000).

The default now calls scoms_next_number() (core.numbering), which pads and never truncates.
"""

from django.db import migrations

from core.numbering import FUNCTION_SQL, set_default_sql


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_salesorder_fulfil_permission")]

    operations = [
        migrations.RunSQL(
            FUNCTION_SQL + set_default_sql("orders_salesorder", "SO-", "orders_salesorder_number_seq"),
            "ALTER TABLE orders_salesorder ALTER COLUMN number SET DEFAULT "
            "'SO-' || lpad(nextval('orders_salesorder_number_seq')::text, 7, '0');",
        ),
    ]
