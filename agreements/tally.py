"""How many agreements each practice has, kept by the database itself.

The archive says "page 3 of 400". Counting a practice's agreements for every page read all
their index entries: at 10,000 agreements that cost the database and the worker a fifth of
the page. A trigger on the agreements' table keeps the number per practice instead, as rows
are inserted, deleted or moved to another practice, on SQLite and PostgreSQL alike and
whatever writes them (the ORM, `bulk_create`, raw SQL, an erasure). A practice without a row
has none.

Django's SQLite schema editor remakes a table to alter it, and the old table's triggers go
with it; a trigger that names a table also stops that table from being renamed. So on SQLite
the triggers are lifted before every migrate and put back after it (and after a flush), and
the numbers are counted afresh then. PostgreSQL alters tables in place: its trigger, made by
the migration, stays.
"""

from typing import Any

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "agreements_agreementtally"
SOURCE = "agreements_agreement"
TRIGGERS = ("agreements_tally_insert", "agreements_tally_delete", "agreements_tally_move")

_ADD = (
    "INSERT INTO agreements_agreementtally (practice_id, agreements) "
    "VALUES (NEW.practice_id, 1) ON CONFLICT (practice_id) "
    "DO UPDATE SET agreements = agreements_agreementtally.agreements + 1"
)
_SUBTRACT = (
    "UPDATE agreements_agreementtally SET agreements = agreements - 1 "
    "WHERE practice_id = OLD.practice_id"
)

RECOUNT = [
    "DELETE FROM agreements_agreementtally",
    "INSERT INTO agreements_agreementtally (practice_id, agreements) "
    "SELECT practice_id, COUNT(*) FROM agreements_agreement GROUP BY practice_id",
]


def install_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION agreements_tally() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.practice_id = OLD.practice_id THEN
                    RETURN NULL;
                END IF;
                IF TG_OP IN ('DELETE', 'UPDATE') THEN {_SUBTRACT}; END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN {_ADD}; END IF;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""",
            "DROP TRIGGER IF EXISTS agreements_tally ON agreements_agreement",
            f"""CREATE TRIGGER agreements_tally
            AFTER INSERT OR DELETE OR UPDATE OF practice_id ON {SOURCE}
            FOR EACH ROW EXECUTE FUNCTION agreements_tally()""",
        ]
    insert, delete, move = TRIGGERS
    return [
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {SOURCE} BEGIN {_ADD}; END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON {SOURCE} BEGIN {_SUBTRACT}; END",
        f"""CREATE TRIGGER IF NOT EXISTS {move} AFTER UPDATE OF practice_id ON {SOURCE}
        WHEN NEW.practice_id <> OLD.practice_id BEGIN {_SUBTRACT}; {_ADD}; END""",
    ]


def uninstall_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS agreements_tally ON {SOURCE}",
            "DROP FUNCTION IF EXISTS agreements_tally()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


def install(using: BaseDatabaseWrapper) -> None:
    """The triggers, and the numbers counted from the rows as they are."""
    with using.cursor() as cursor:
        for statement in [*install_statements(using.vendor), *RECOUNT]:
            cursor.execute(statement)


def uninstall(using: BaseDatabaseWrapper) -> None:
    with using.cursor() as cursor:
        for statement in uninstall_statements(using.vendor):
            cursor.execute(statement)


def agreements_of(practice_id: int) -> int:
    """The number of the practice's agreements, as the trigger keeps it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT agreements FROM agreements_agreementtally WHERE practice_id = %s",
            [practice_id],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _installed_here(using: BaseDatabaseWrapper) -> bool:
    return using.vendor == "sqlite" and TABLE in using.introspection.table_names()


def lift_before_migrate(*, using: str, **kwargs: Any) -> None:
    """A `pre_migrate` handler (the app's `ready()` connects it): SQLite only."""
    database = connections[using]
    if database.vendor == "sqlite":
        uninstall(database)


def restore_after_migrate(*, using: str, **kwargs: Any) -> None:
    """A `post_migrate` handler, also sent after a flush: SQLite only, once the table is
    there (a migration back to before it leaves nothing to restore)."""
    database = connections[using]
    if _installed_here(database):
        install(database)
