"""PO/GR numbers past 9,999,999: lpad() cut them to 7 digits. Defaults now call scoms_next_number()."""

from django.db import migrations

from core.numbering import FUNCTION_SQL, set_default_sql


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0001_initial")]

    operations = [
        migrations.RunSQL(
            FUNCTION_SQL
            + set_default_sql("suppliers_purchaseorder", "PO-", "suppliers_purchaseorder_number_seq")
            + set_default_sql("suppliers_goodsreceipt", "GR-", "suppliers_goodsreceipt_number_seq"),
            "ALTER TABLE suppliers_purchaseorder ALTER COLUMN number SET DEFAULT "
            "'PO-' || lpad(nextval('suppliers_purchaseorder_number_seq')::text, 7, '0');"
            "ALTER TABLE suppliers_goodsreceipt ALTER COLUMN number SET DEFAULT "
            "'GR-' || lpad(nextval('suppliers_goodsreceipt_number_seq')::text, 7, '0');",
        ),
    ]
