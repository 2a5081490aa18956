"""The database, not only the code, keeps the ledger and the transparency log append-only.

UPDATE and DELETE on these tables raise an error whoever issues them (the application, the admin, a
psql session without superuser tricks). The ledger's zero-sum rule is a deferred constraint trigger:
at commit, every transaction touched must sum to zero per currency. TRUNCATE is left alone, so test
databases can still be emptied between tests."""

from django.db import migrations

APPEND_ONLY = ["escrow_ledgertransaction", "escrow_ledgerentry", "escrow_logentry", "escrow_treehead"]

REFUSE = """
CREATE FUNCTION escrow_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

BALANCED = """
CREATE FUNCTION escrow_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE unbalanced record;
BEGIN
    SELECT currency, SUM(amount) AS total INTO unbalanced
      FROM escrow_ledgerentry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %: %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER escrow_ledger_balanced
    AFTER INSERT ON escrow_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION escrow_check_balanced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS escrow_ledger_balanced ON escrow_ledgerentry;
DROP FUNCTION IF EXISTS escrow_check_balanced();
"""


def _refuse(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION escrow_refuse_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("escrow", "0001_initial")]

    operations = [
        migrations.RunSQL(REFUSE, "DROP FUNCTION IF EXISTS escrow_refuse_change();"),
        migrations.RunSQL(BALANCED, BACKWARD),
        *(
            migrations.RunSQL(_refuse(table), f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            for table in APPEND_ONLY
        ),
    ]
