"""Model instances from rows of hand-written SQL, as the ORM would make them.

On the hottest paths (a worker's claim, a student's exercise, submit and poll) the ORM
spent more CPU compiling a query than PostgreSQL spent running it. There the SQL is
written once per process from the models' own names (`columns`) and its rows are read
back into instances with the ORM's converters (`reader`), so a JSON field or a time
zone comes back exactly as from a queryset.

On PostgreSQL they run through `cursor()`: bound and prepared by the server, so that
each is planned once per connection instead of at every run.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def cursor():
    """A cursor for the hand-written statements.

    On PostgreSQL (unless DB_PREPARED_STATEMENTS is off) a statement is sent with its
    parameters apart, and prepared the first time a connection runs it: PostgreSQL
    then plans it once per connection rather than at every run, and the client no
    longer writes the parameters into the text. Django's cursors bind parameters in
    the client and never prepare (which keeps PgBouncer's transaction mode working;
    PgBouncer 1.21 and later keep prepared statements too, with
    `max_prepared_statements`). Errors are Django's, as from its own cursors, and the
    statements are logged where Django logs queries (`CaptureQueriesContext`).
    Elsewhere, Django's cursor."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as django_cursor:
            yield django_cursor
        return
    # As Django's own cursors begin: a kept connection that the server closed (a
    # restart) is replaced at the first statement of a request or task.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    import psycopg

    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        yield _Prepared(raw)


class _Prepared:
    """The few methods of a DB-API cursor the hand-written statements use."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql: str, params=None) -> None:
        connection.validate_no_broken_transaction()
        start = time.monotonic()
        with connection.wrap_database_errors:
            self.raw.execute(sql, params, prepare=True)
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})

    def fetchone(self):
        with connection.wrap_database_errors:
            return self.raw.fetchone()

    def fetchall(self):
        with connection.wrap_database_errors:
            return self.raw.fetchall()

    @property
    def rowcount(self) -> int:
        return self.raw.rowcount


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
