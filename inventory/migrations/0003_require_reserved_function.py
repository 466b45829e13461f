"""inventory_require_reserved(expected, reserved): raises SQLSTATE SC001 unless they match.

Lets one statement reserve stock last, after it has written its own rows, and still be all or
nothing: the statement fails (and so writes nothing) when the reservation came up short
(inventory.services.reservation_sql).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION inventory_require_reserved(expected integer, reserved bigint)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF reserved IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'stock moved: % of % stock rows could be reserved', reserved, expected
            USING ERRCODE = 'SC001';
    END IF;
    RETURN true;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS inventory_require_reserved(integer, bigint);"


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_ledger_immutable")]

    operations = [migrations.RunSQL(CREATE, DROP)]
