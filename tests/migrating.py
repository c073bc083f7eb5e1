"""Migrate the test database to a given state, as `manage.py migrate` does it: with the
immutability triggers lifted around it (SQLite remakes tables; see core.immutability)."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.immutability import lift_before_migrate, restore_after_migrate


def migrate(targets):
    """Returns the project state at `targets`: its `.apps` are the models as they were then
    (built only when asked for, as that takes a while). Already there, nothing is done."""
    executor = MigrationExecutor(connection)
    if executor.migration_plan(targets):
        lift_before_migrate(using=connection.alias)
        executor.migrate(targets)
        restore_after_migrate(using=connection.alias)
    return executor.loader.project_state(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
