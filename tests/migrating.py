"""Migrate the test database to a given state, as `manage.py migrate` does it: with the
immutability triggers lifted around it (SQLite remakes tables; see core.immutability)."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.immutability import lift_before_migrate, restore_after_migrate


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    lift_before_migrate(using=connection.alias)
    executor.migrate(targets)
    restore_after_migrate(using=connection.alias)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
