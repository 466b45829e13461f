"""Document numbers (SO-0000001, PO-…, GR-…) drawn from PostgreSQL sequences on INSERT.

Models use a `db_default` Func whose SQL is `scoms_next_number('<prefix>', '<sequence>')`: no
extra query, never duplicated, gaps allowed. The function is created by the migrations of each
app that uses it (FUNCTION_SQL is idempotent). It pads to 7 digits and never truncates past
them — `lpad` alone would turn SO-10000000 into SO-1000000.
"""

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION scoms_next_number(prefix text, sequence_name text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT prefix || CASE WHEN n < 10000000 THEN lpad(n::text, 7, '0') ELSE n::text END
      FROM nextval(sequence_name::regclass) AS n
$$;
"""


def set_default_sql(table: str, prefix: str, sequence: str) -> str:
    return f"ALTER TABLE {table} ALTER COLUMN number SET DEFAULT scoms_next_number('{prefix}', '{sequence}');"
