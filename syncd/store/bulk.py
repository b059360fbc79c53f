"""Many rows through one statement, handed to the driver as they are.

A page commits about a dozen rows per decision. Through `Connection.execute(stmt, rows)`
SQLAlchemy builds each row's parameters one by one (the JSON columns serialised by the bind
processors, every value looked up by key), and that cost was as large as the database's own
work. Here the statement is compiled once for the batch, the JSON columns are serialised with
the store's codec, and the rows go to the driver's `executemany`: sqlite3's runs in C,
psycopg's sends the rows in one pipeline. (A multi-row VALUES or an UNNEST of arrays was
measured on PostgreSQL too: with psycopg's C implementation both cost more client CPU than
the pipeline.) The statement, the transaction and the values stored are the same as through
SQLAlchemy; only the per-row Python goes.

Only INSERT statements (ON CONFLICT allowed) whose rows share one set of keys go this way;
the rest of the store uses SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from syncd.store.codec import dumps


def execute_rows(conn: Connection, stmt: Insert, rows: Sequence[dict[str, Any]]) -> None:
    """Run an INSERT (ON CONFLICT allowed) for all `rows`; every row has the same keys, all
    of them columns of the statement's table."""
    if not rows:
        return
    table = stmt.table
    assert isinstance(table, sa.Table)
    keys = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    json_keys = {k for k in keys if isinstance(table.c[k].type, sa.JSON)}
    constants = {k: v for k, v in compiled.params.items() if k not in rows[0]}  # ON CONFLICT's
    encoded = [
        {k: dumps(v) if k in json_keys else v for k, v in row.items()} if json_keys else row
        for row in rows
    ]
    if compiled.positiontup is not None:  # sqlite3: ? placeholders, in this order
        order = list(compiled.positiontup)
        conn.exec_driver_sql(
            compiled.string,
            [tuple(row[k] if k in row else constants[k] for k in order) for row in encoded],
        )
        return
    conn.exec_driver_sql(compiled.string, [{**constants, **row} for row in encoded])
