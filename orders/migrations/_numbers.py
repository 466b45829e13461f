"""SQL shared by the order migrations (a module name starting with _ is not a migration)."""

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION orders_next_order_number() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT 'SO-' || CASE WHEN n < 10000000 THEN lpad(n::text, 7, '0') ELSE n::text END
      FROM nextval('orders_salesorder_number_seq') AS n
$$;
"""
