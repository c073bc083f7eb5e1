"""Rows the database itself keeps as they are: sealed evidence and append-only trails.

The models refuse to change a sealed agreement or a timeline entry through `save()` and
`delete()`, but a queryset `update()` or `delete()`, raw SQL or another program reaches the
table directly. So the database refuses too: each app declares which rows of its tables are
immutable (`Immutable`), its migration installs them (`ProtectRows`), and a trigger on
SQLite and on PostgreSQL refuses every UPDATE and DELETE of such a row with an
IntegrityError.

The law still requires removing some of them: erasure once every retention period has run
out (GDPR art. 17), the end of a draft that never became evidence. Those go through the one
way the triggers let past, `lawful_removal(...)`: it writes a `LawfulRemoval` row that is
active only inside its own transaction, and the row stays as the record of what was allowed,
why and by whom.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

from .models import LawfulRemoval
from .origin import Origin

if TYPE_CHECKING:
    from django.db.migrations.state import ProjectState

# What every trigger asks before it refuses.
PERMIT_ACTIVE = f"EXISTS (SELECT 1 FROM {LawfulRemoval._meta.db_table} WHERE active)"  # noqa: S608

# Every trigger's name ends so, so that the protection can be found (and, in the tests'
# SQLite teardown, lifted) by name.
TRIGGER_MARK = "_immutable"


@dataclass(frozen=True)
class Immutable:
    """The rows of `table` that no UPDATE or DELETE may touch: those for which the SQL
    condition `when` holds, written about the row as it is (`OLD.column`); all of them when
    it is left out (an append-only trail). `what` names such a row in the error."""

    table: str
    what: str
    when: str = "TRUE"

    @property
    def message(self) -> str:
        return f"{self.what} is evidence and cannot be changed or deleted ({self.table})"

    @property
    def refused(self) -> str:
        """When the database refuses: the row is protected and no lawful removal runs."""
        return f"({self.when}) AND NOT {PERMIT_ACTIVE}"


def install_statements(rule: Immutable, vendor: str) -> list[str]:
    """The SQL that installs the rule's triggers, replacing any earlier version of them."""
    message = rule.message.replace("'", "''")
    if vendor == "sqlite":
        # SQLite has no UPDATE OR DELETE trigger: one trigger per statement kind.
        return [
            statement
            for operation in ("UPDATE", "DELETE")
            for statement in (
                f"DROP TRIGGER IF EXISTS {rule.table}{TRIGGER_MARK}_{operation.lower()}",
                f"CREATE TRIGGER {rule.table}{TRIGGER_MARK}_{operation.lower()} "
                f"BEFORE {operation} ON {rule.table} FOR EACH ROW WHEN {rule.refused} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            )
        ]
    if vendor == "postgresql":
        name = f"{rule.table}{TRIGGER_MARK}"
        return [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {rule.refused} THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = '{message}';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$""",
            f"DROP TRIGGER IF EXISTS {name} ON {rule.table}",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {rule.table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    raise NotImplementedError(f"No immutability triggers for {vendor}.")


def uninstall_statements(rule: Immutable, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {rule.table}{TRIGGER_MARK}_{operation}"
            for operation in ("update", "delete")
        ]
    if vendor == "postgresql":
        name = f"{rule.table}{TRIGGER_MARK}"
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {rule.table}",
            f"DROP FUNCTION IF EXISTS {name}()",
        ]
    raise NotImplementedError(f"No immutability triggers for {vendor}.")


def install(schema_editor: BaseDatabaseSchemaEditor, rules: Sequence[Immutable]) -> None:
    for rule in rules:
        for statement in install_statements(rule, schema_editor.connection.vendor):
            schema_editor.execute(statement)


class ProtectRows(Operation):
    """A migration operation: install the triggers that keep these rows immutable."""

    reversible = True

    def __init__(self, *rules: Immutable) -> None:
        self.rules = rules

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass  # Triggers are not part of Django's model state.

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        # On SQLite the end of the migrate run installs them (restore_after_migrate): a
        # later migration in the same run could not rebuild a table they name.
        if schema_editor.connection.vendor != "sqlite":
            install(schema_editor, self.rules)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for rule in self.rules:
            for statement in uninstall_statements(rule, schema_editor.connection.vendor):
                schema_editor.execute(statement)

    def describe(self) -> str:
        return "Refuse UPDATE and DELETE of " + ", ".join(rule.table for rule in self.rules)


def declared_rules(connection: BaseDatabaseWrapper) -> list[Immutable]:
    """The rules the applied migrations installed, the latest version of each table's."""
    loader = MigrationLoader(connection)
    applied = loader.applied_migrations or {}
    rules: dict[str, Immutable] = {}
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key not in applied:
                continue
            for operation in loader.graph.nodes[key].operations:
                if isinstance(operation, ProtectRows):
                    rules.update((rule.table, rule) for rule in operation.rules)
    return list(rules.values())


# Django's SQLite schema editor alters most columns by building a new table, copying the
# rows, dropping the old table and renaming the new one. The old table's triggers go with it,
# and the rename fails while another table's trigger names the dropped table. So on SQLite
# the triggers are lifted before every migrate and put back after it, from the rules the
# applied migrations declare; PostgreSQL alters tables in place and keeps them throughout.


def drop_sqlite_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [f"%{TRIGGER_MARK}%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')


def lift_before_migrate(*, using: str, **kwargs: Any) -> None:
    """A `pre_migrate` handler (core's `ready()` connects it)."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        drop_sqlite_triggers(connection)


def restore_after_migrate(*, using: str, **kwargs: Any) -> None:
    """A `post_migrate` handler (core's `ready()` connects it); also sent after a flush."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for rule in declared_rules(connection):
                for statement in install_statements(rule, connection.vendor):
                    cursor.execute(statement)


@contextmanager
def lawful_removal(*, reason: str, origin: Origin) -> Iterator[LawfulRemoval]:
    """The one way to change or delete immutable rows, for what the law requires: inside
    this block (and only in its transaction) the triggers let the changes through.

    The permit is a row that is active from the start of the block until its end; it is made
    inactive before the transaction commits, so no other transaction ever sees it active, and
    it stays as the record of the removal. If the block fails, its savepoint rolls back the
    permit together with everything done under it.
    """
    with transaction.atomic():
        permit = LawfulRemoval.objects.create(
            reason=reason[:300], actor=origin.actor, account=origin.account, active=True
        )
        yield permit
        permit.active = False
        permit.save(update_fields=["active"])
