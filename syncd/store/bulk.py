"""Many rows through one statement, without SQLAlchemy's per-row Python.

A page commits about a dozen rows per decision. Through `Connection.execute(stmt, rows)`
SQLAlchemy builds each row's parameters one by one (the JSON columns serialised by the bind
processors, every value looked up by key), and that cost was as large as the database's own
work. Here the JSON columns are serialised with the store's codec (packed ones compressed
as `PackedJSON` stores them) and the rows go to the database in bulk:

- SQLite: the statement compiled once, the rows to sqlite3's `executemany` (it runs in C).
- PostgreSQL: the rows as one JSON array (encoded in C by msgspec), one parameter of one
  `INSERT ... SELECT` from `json_to_recordset` in the order given. psycopg's `executemany`
  sends each row as its own statement in a pipeline, and with its pure-Python
  implementation (built on the system libpq) adapting and sending the rows one by one cost
  more client CPU than the rest of the page's commit. JSON columns arrive as the codec's text
  and are cast to JSON, binary and packed ones as base64, so the values stored are the ones
  `executemany` stored.

The statement (ON CONFLICT and its WHERE included) and the transaction are the caller's;
only the way the rows travel differs. Only INSERT statements whose rows share one set of
keys go this way; the rest of the store uses SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from syncd.store.codec import dumps
from syncd.store.packed import PackedJSON, pack

_ROWS = msgspec.json.Encoder()  # bytes go as base64 (decoded by the statement)
_ORDER = "row_order_"  # the ordinal column of the rows, named unlike any table column


def execute_rows(conn: Connection, stmt: Insert, rows: Sequence[dict[str, Any]]) -> None:
    """Run an INSERT (ON CONFLICT allowed) for all `rows`; every row has the same keys, all
    of them columns of the statement's table."""
    if not rows:
        return
    table = stmt.table
    assert isinstance(table, sa.Table)
    keys = list(rows[0])
    serialise: dict[str, Callable[[Any], Any]] = {}
    for k in keys:
        kind = table.c[k].type
        if isinstance(kind, PackedJSON):
            serialise[k] = partial(pack, kind.name)
        elif isinstance(kind, sa.JSON):
            serialise[k] = dumps
    encoded = [
        {k: serialise[k](v) if k in serialise else v for k, v in row.items()} if serialise else row
        for row in rows
    ]
    if conn.dialect.name == "postgresql":
        conn.execute(_from_json(conn, stmt, table, keys), {"rows": _ROWS.encode(encoded).decode()})
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    constants = {k: v for k, v in compiled.params.items() if k not in rows[0]}  # ON CONFLICT's
    if compiled.positiontup is not None:  # sqlite3: ? placeholders, in this order
        order = list(compiled.positiontup)
        conn.exec_driver_sql(
            compiled.string,
            [tuple(row[k] if k in row else constants[k] for k in order) for row in encoded],
        )
        return
    conn.exec_driver_sql(compiled.string, [{**constants, **row} for row in encoded])


def _from_json(conn: Connection, stmt: Insert, table: sa.Table, keys: list[str]) -> Insert:
    """`stmt` inserting the rows of the JSON array bound as `rows`, in the array's order.

    The column list goes inside ROWS FROM because PostgreSQL allows WITH ORDINALITY only
    there; JSON, binary and packed columns travel as text (the codec's JSON, base64)."""
    quote = conn.dialect.identifier_preparer.quote
    types = []
    columns: list[sa.ColumnElement[Any]] = []
    for k in keys:
        kind = table.c[k].type
        name = quote(k)
        value = sa.literal_column(f"r.{name}", sa.Text)
        if isinstance(kind, sa.JSON):
            types.append(f"{name} TEXT")
            columns.append(sa.cast(value, sa.JSON))
        elif isinstance(kind, sa.LargeBinary | PackedJSON):
            types.append(f"{name} TEXT")
            columns.append(sa.func.decode(value, sa.literal_column("'base64'")))
        else:
            types.append(f"{name} {kind.compile(dialect=conn.dialect)}")
            columns.append(sa.literal_column(f"r.{name}", kind))
    source = sa.text(
        "ROWS FROM (json_to_recordset(CAST(:rows AS JSON)) AS ("
        + ", ".join(types)
        + f")) WITH ORDINALITY AS r({', '.join(quote(k) for k in keys)}, {_ORDER})"
    )
    select = sa.select(*columns).select_from(source).order_by(sa.literal_column(f"r.{_ORDER}"))
    return stmt.from_select(keys, select)
