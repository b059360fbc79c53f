"""Batch reads and key sets that cost the client little on PostgreSQL.

A page (or a review batch) reads a few thousand rows in a handful of queries, each limited
to a few thousand keys. With psycopg's pure-Python implementation (built on the system
libpq) the client's cost is per value: each key of an `IN (...)` list is a parameter that
SQLAlchemy renders and psycopg parses, adapts and sends, and each value of a result row is
fetched through ctypes and converted on its own. That cost was most of the daily review's
time and a large part of a page's.

On PostgreSQL, then, a key set travels as one JSON array (`among`) and a result comes back
as one JSON array of row arrays (`fetch`), both encoded and decoded in C by msgspec. The
rows are the ones the query selects, in its order, with the values SQLAlchemy would give
(JSON columns decoded, packed ones unpacked, floats as floats, binary as bytes). SQLite's
driver has no such per-value cost, so there the statements run as they are written.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store.packed import PackedJSON, unpack

_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder()


def among(
    conn: Connection, column: sa.ColumnElement[Any], values: Collection[Any]
) -> sa.ColumnElement[bool]:
    """`column IN values`: on PostgreSQL `column = ANY(the JSON array's elements)`, one
    parameter whatever the number of values (an index scan as for IN)."""
    if conn.dialect.name != "postgresql":
        return column.in_(list(values))
    elements: sa.ColumnElement[Any] = sa.func.json_array_elements_text(
        sa.cast(sa.bindparam(None, _ENCODE.encode(list(values)).decode(), sa.Text), sa.JSON)
    )
    if not isinstance(column.type, sa.String):  # text compares with VARCHAR as it is
        elements = sa.cast(elements, column.type)
    return column == sa.any_(sa.func.array(sa.select(elements).scalar_subquery()))


def fetch(conn: Connection, stmt: sa.Select[Any]) -> list[Any]:
    """The rows of `stmt` (attributes by column name), in its order."""
    if conn.dialect.name != "postgresql":
        return list(conn.execute(stmt))  # row by row: .all() costs more here
    sub = stmt.subquery()
    values = [  # bytea as hex digits whatever the server's bytea_output
        sa.func.encode(c, sa.literal_column("'hex'"))
        if isinstance(c.type, sa.LargeBinary | PackedJSON)
        else c
        for c in sub.c
    ]
    # A sorted sub-select is never merged into the outer one, and json_agg has no partial
    # (parallel) form: it takes the rows in the sub-select's order.
    agg = sa.select(sa.cast(sa.func.json_agg(sa.func.json_build_array(*values)), sa.Text))
    text = conn.execute(agg).scalar()
    if text is None:  # no rows
        return []
    names = tuple(c.key for c in sub.c)
    convert = [(i, f) for i, c in enumerate(sub.c) if (f := _converter(c.type)) is not None]
    make = _row_type(names)._make
    rows = _DECODE.decode(text)
    if convert:
        for row in rows:
            for i, f in convert:
                if row[i] is not None:
                    row[i] = f(row[i])
    return [make(row) for row in rows]


def _converter(kind: Any) -> Callable[[Any], Any] | None:
    """What makes a JSON value the driver's value of this type (None: it already is)."""
    if isinstance(kind, sa.LargeBinary):  # encode(bytea, 'hex')
        return bytes.fromhex
    if isinstance(kind, PackedJSON):
        name = kind.name
        return lambda value: unpack(name, bytes.fromhex(value))
    if isinstance(kind, sa.Float):  # 2.0 comes back as 2
        return float
    return None


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names)
