"""Every way to change or delete a row, and the check that the database refused it: for the
tests of what the database keeps as it is (core.immutability)."""

import pytest
from django.db import IntegrityError, connection, models, transaction


def raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def ways_to_change(row, field, value):
    """Every way to change or delete one row: through the model (past any `save()` or
    `delete()` override: the database must refuse on its own), through a queryset, and in
    raw SQL."""
    model = type(row)
    table = model._meta.db_table
    key = model._meta.pk.column
    column = model._meta.get_field(field).column
    # A plain queryset: past any manager that refuses updates itself.
    rows = models.QuerySet(model).filter(pk=row.pk)

    def save():
        setattr(row, field, value)
        models.Model.save(row)

    return {
        "save": save,
        "delete": lambda: models.Model.delete(row),
        "queryset update": lambda: rows.update(**{field: value}),
        "queryset delete": lambda: rows.delete(),
        # Table and column names from the model, values as parameters.
        "raw update": lambda: raw(
            f'UPDATE {table} SET {column} = %s WHERE "{key}" = %s',  # noqa: S608
            [value, row.pk],
        ),
        "raw delete": lambda: raw(
            f'DELETE FROM {table} WHERE "{key}" = %s',  # noqa: S608
            [row.pk],
        ),
    }


WAYS = ["save", "delete", "queryset update", "queryset delete", "raw update", "raw delete"]


def assert_refused(row, field, value, way):
    model = type(row)
    before = models.QuerySet(model).filter(pk=row.pk).values_list(field, flat=True).get()
    refused = pytest.raises(IntegrityError, match="is evidence and cannot be changed or deleted")
    with refused, transaction.atomic():
        ways_to_change(row, field, value)[way]()
    after = models.QuerySet(model).filter(pk=row.pk).values_list(field, flat=True)
    assert list(after) == [before], f"{model.__name__}: {way} got through"
