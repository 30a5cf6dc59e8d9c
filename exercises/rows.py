"""Model instances from rows of hand-written SQL, as the ORM would make them.

On the hottest paths (a worker's claim, a student's exercise, submit and poll) the ORM
spent more CPU compiling a query than PostgreSQL spent running it. There the SQL is
written once per process from the models' own names (`columns`) and its rows are read
back into instances with the ORM's converters (`reader`), so a JSON field or a time
zone comes back exactly as from a queryset.
"""

from __future__ import annotations

from django.db import connection


def columns(alias: str, model) -> str:
    """The concrete columns of `model`, qualified by `alias`, in field order."""
    q = connection.ops.quote_name
    return ", ".join(f"{alias}.{q(f.column)}" for f in model._meta.concrete_fields)


def column(model, name: str) -> str:
    """The quoted column of `model`'s field `name`."""
    return connection.ops.quote_name(model._meta.get_field(name).column)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _converters(col) -> list:
    return connection.ops.get_db_converters(col) + col.get_db_converters(connection)


def value_reader(model, name: str):
    """Converts one column of `model`'s field `name`, as read from a row, as the ORM would."""
    col = model._meta.get_field(name).get_col(model._meta.db_table)
    fns = _converters(col)

    def convert(value):
        for fn in fns:
            value = fn(value, col, connection)
        return value

    return convert


def reader(model, start: int = 0):
    """Makes an instance of `model` from its columns in a row, from `start` on, as the
    ORM would (its converters applied); None when its primary key is null (no row)."""
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    cols = [f.get_col(model._meta.db_table) for f in fields]
    converters = [(i, col, _converters(col)) for i, col in enumerate(cols)]
    converters = [(i, col, fns) for i, col, fns in converters if fns]
    pk = names.index(model._meta.pk.attname)
    end = start + len(fields)

    def read(row):
        values = list(row[start:end])
        if values[pk] is None:
            return None
        for i, col, fns in converters:
            for fn in fns:
                values[i] = fn(values[i], col, connection)
        return model.from_db(connection.alias, names, values)

    read.width = len(fields)
    return read
