"""The first backfill of a large org, through Bulk API 2.0 query jobs.

Bulk API 2.0 has neither parent-to-child sub-queries nor a dependable ORDER BY, and its CSV
pages arrive in no particular order. So the opportunities, their contact roles and their stage
history come from three jobs, each page spilled into a temporary SQLite file as it arrives,
then replayed in (SystemModstamp, Id) order and rebuilt into the REST shape the mapping reads.
Memory stays flat however large the org: only one page and one chunk are ever held.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.records import select

Record = dict[str, Any]
CHUNK = 500  # rows rebuilt at a time (also the size of the IN lists into the spill)
HISTORY_ROWS = 10


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Shape:
    """Rebuilds flat CSV columns into the REST shape: `Account.Name` -> {"Account": {"Name"}}.

    The column layout is worked out once per table, not once per row.
    """

    def __init__(self, columns: Sequence[str]):
        self.flat: list[tuple[int, str]] = []
        self.nested: dict[str, list[tuple[int, str]]] = {}
        for index, column in enumerate(columns):
            head, _, rest = column.partition(".")
            if rest:
                self.nested.setdefault(head, []).append((index, rest))
            else:
                self.flat.append((index, column))
        self.deep = any("." in rest for parts in self.nested.values() for _, rest in parts)

    def build(self, values: Sequence[Any]) -> Record:
        record: Record = {name: values[i] for i, name in self.flat}
        for head, parts in self.nested.items():
            inner = {name: values[i] for i, name in parts}
            record[head] = Shape(list(inner)).build(list(inner.values())) if self.deep else inner
        return record


class Spill:
    """A temporary SQLite file holding CSV pages, read back sorted and grouped."""

    def __init__(self, directory: Path | None):
        handle, name = tempfile.mkstemp(prefix="syncd-sf-", suffix=".sqlite", dir=directory)
        os.close(handle)
        self.path = Path(name)
        self.db = sqlite3.connect(name)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self._columns: dict[str, list[str]] = {}

    def close(self) -> None:
        self.db.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def loader(self, table: str) -> tuple[Callable[[str], None], Callable[[], None]]:
        """(on_page, on_restart) for SalesforceClient.bulk_query."""

        def on_page(page: str) -> None:
            reader = csv.reader(io.StringIO(page))
            header = next(reader, None)
            if header is None:
                return
            if table not in self._columns:
                columns = ", ".join(f"{_quote(c)} TEXT" for c in header)
                self.db.execute(f"CREATE TABLE {_quote(table)} ({columns})")
                self._columns[table] = header
            marks = ", ".join("?" for _ in header)
            insert = f"INSERT INTO {_quote(table)} VALUES ({marks})"  # noqa: S608 - quoted name
            self.db.executemany(insert, reader)

        def on_restart() -> None:
            self.db.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
            self._columns.pop(table, None)

        return on_page, on_restart

    def index(self, table: str, column: str) -> None:
        if table in self._columns:
            self.db.execute(
                f"CREATE INDEX {_quote(table + '_' + column)} ON {_quote(table)} ({_quote(column)})"
            )

    def ordered(self, table: str, order: str) -> Iterator[list[Record]]:
        if table not in self._columns:
            return
        statement = f"SELECT * FROM {_quote(table)} ORDER BY {order}"  # noqa: S608 - quoted names
        cursor = self.db.execute(statement)
        shape = Shape([d[0] for d in cursor.description])
        while rows := cursor.fetchmany(CHUNK):
            yield [shape.build(r) for r in rows]

    def grouped(
        self, table: str, key: str, ids: Sequence[str], order: str
    ) -> dict[str, list[Record]]:
        if table not in self._columns or not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        statement = (
            f"SELECT * FROM {_quote(table)} WHERE {_quote(key)} IN ({marks}) "  # noqa: S608 - quoted names, bound values
            f"ORDER BY {_quote(key)}, {order}"
        )
        cursor = self.db.execute(statement, list(ids))
        names = [d[0] for d in cursor.description]
        shape, at = Shape(names), names.index(key)
        out: dict[str, list[Record]] = {}
        for values in cursor:
            out.setdefault(str(values[at]), []).append(shape.build(values))
        return out


class Backfill:
    def __init__(self, client: SalesforceClient, spill_dir: Path | None):
        self._client = client
        self._spill_dir = spill_dir if spill_dir is not None and spill_dir.is_dir() else None

    def _load(self, spill: Spill, table: str, sobject: str, soql: str) -> None:
        on_page, on_restart = spill.loader(table)
        self._client.bulk_query(sobject, soql, on_page=on_page, on_restart=on_restart)

    def opportunities(
        self,
        opportunity_fields: Sequence[str],
        role_fields: Sequence[str],
        history_fields: Sequence[str],
        conditions: Sequence[str],
    ) -> Iterator[Record]:
        """Closed-lost opportunities matching `conditions`, in (SystemModstamp, Id) order."""
        parent_conditions = [f"Opportunity.{c}" for c in conditions]
        spill = Spill(self._spill_dir)
        try:
            self._load(
                spill,
                "opportunity",
                "Opportunity",
                select(opportunity_fields, "Opportunity", conditions),
            )
            self._load(
                spill,
                "role",
                "OpportunityContactRole",
                select(
                    ["OpportunityId", *role_fields], "OpportunityContactRole", parent_conditions
                ),
            )
            self._load(
                spill,
                "history",
                "OpportunityHistory",
                select(["OpportunityId", *history_fields], "OpportunityHistory", parent_conditions),
            )
            spill.index("role", "OpportunityId")
            spill.index("history", "OpportunityId")
            for chunk in spill.ordered("opportunity", '"SystemModstamp", "Id"'):
                ids = [str(r["Id"]) for r in chunk]
                roles = spill.grouped(
                    "role", "OpportunityId", ids, '"IsPrimary" DESC, "CreatedDate", "Id"'
                )
                history = spill.grouped(
                    "history", "OpportunityId", ids, '"CreatedDate" DESC, "Id" DESC'
                )
                for record in chunk:
                    rid = str(record["Id"])
                    record["OpportunityContactRoles"] = {"records": roles.get(rid, [])}
                    record["OpportunityHistories"] = {
                        "records": history.get(rid, [])[:HISTORY_ROWS]
                    }
                    yield record
        finally:
            spill.close()

    def records(
        self, sobject: str, fields: Sequence[str], conditions: Sequence[str]
    ) -> Iterator[Record]:
        """Any flat query's rows in (SystemModstamp, Id) order (leads)."""
        spill = Spill(self._spill_dir)
        try:
            self._load(spill, "rows", sobject, select(fields, sobject, conditions))
            for chunk in spill.ordered("rows", '"SystemModstamp", "Id"'):
                yield from chunk
        finally:
            spill.close()
