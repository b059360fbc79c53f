"""Evaluates a parsed SOQL query against the local org, with the real API's checks.

Compilation resolves every field path against the schema (unknown fields and relationships,
filters on non-filterable fields and literals of the wrong type are refused with the real
error codes), then the query runs once: the matching root records are kept in order and
rendered a page at a time, as the REST API's query locator does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from syncd_salesforce.fake_org import Org, full_id
from syncd_salesforce.fake_schema import FieldDef, ObjectDef
from syncd_salesforce.soql import (
    And,
    Compare,
    Expr,
    FieldRef,
    InList,
    InQuery,
    Like,
    Not,
    Or,
    Query,
    SoqlError,
    SubQuery,
    Value,
    like_regex,
    parse,
)

Record = dict[str, Any]
Getter = Callable[[Record], Any]
_TEXT = {"string", "textarea", "picklist", "email", "phone"}
_IDS = {"id", "reference"}
_NUMBERS = {"int", "double", "currency", "percent"}
_SOAP_TYPES = {"datetime": "dateTime", "date": "date", "boolean": "boolean"}


def wire_value(value: Any) -> Any:
    """A stored value as the REST API's JSON shows it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{value.microsecond // 1000:03d}+0000"
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_value(value: Any) -> str:
    """A stored value as a Bulk API 2.0 CSV cell."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{value.microsecond // 1000:03d}Z"
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class _Path:
    """A compiled field path: how to read it and where it sits in the rendered record."""

    getter: Getter
    fdef: FieldDef
    hops: tuple[tuple[str, str], ...]  # (relationship name, reference field) per hop
    name: str  # canonical last field name
    chain: tuple[str, ...] = ()  # the reference fields followed to the record holding it

    def __post_init__(self) -> None:
        self.chain = tuple(h[1] for h in self.hops)

    @property
    def text(self) -> str:
        return ".".join([*(h[0] for h in self.hops), self.name])


@dataclass
class _Child:
    relationship: str
    obj: ObjectDef
    paths: list[_Path]
    by_parent: dict[str, list[Record]]
    limit: int | None


@dataclass
class Result:
    """An executed query: the matching root records in order, rendered on demand."""

    org: Org
    obj: ObjectDef
    records: list[Record]
    paths: list[_Path]
    children: list[_Child] = field(default_factory=list)
    count_only: bool = False
    version: str = "59.0"

    @property
    def total(self) -> int:
        return len(self.records)

    def render(self, record: Record) -> dict[str, Any]:
        out = self._render(self.obj, record, self.paths, depth=0)
        for child in self.children:
            rows = child.by_parent.get(record["Id"], [])
            if child.limit is not None:
                rows = rows[: child.limit]
            out[child.relationship] = (
                {
                    "totalSize": len(rows),
                    "done": True,
                    "records": [self._render(child.obj, r, child.paths, 0) for r in rows],
                }
                if rows
                else None
            )
        return out

    def _render(
        self, obj: ObjectDef, record: Record, paths: list[_Path], depth: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self._attributes(obj.name, record["Id"])}
        nested: dict[str, tuple[str, list[_Path]]] = {}
        for path in paths:
            if len(path.hops) == depth:
                out[path.name] = wire_value(record.get(path.name))
            else:
                rel, ref_field = path.hops[depth]
                nested.setdefault(rel, (ref_field, []))[1].append(path)
        for rel, (ref_field, sub_paths) in nested.items():
            parent = self.org.find(record.get(ref_field))
            if parent is None:
                out[rel] = None
                continue
            parent_obj = self.org.schema[self.org.sobject_of(parent["Id"]) or obj.name]
            out[rel] = self._render(parent_obj, parent, sub_paths, depth + 1)
        return out

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {
            "type": sobject,
            "url": f"/services/data/v{self.version}/sobjects/{sobject}/{record_id}",
        }

    def csv_header(self) -> list[str]:
        return [p.text for p in self.paths]

    def csv_row(self, record: Record) -> list[str]:
        # Each parent is looked up once per row, however many of its fields are selected.
        holders: dict[tuple[str, ...], Record | None] = {(): record}
        for path in self.paths:
            chain = path.chain
            if chain not in holders:
                holder: Record | None = record
                for ref_field in chain:
                    holder = self.org.find(holder.get(ref_field)) if holder else None
                holders[chain] = holder
        return [
            csv_value(h.get(p.name)) if (h := holders[p.chain]) is not None else ""
            for p in self.paths
        ]


class Compiler:
    """Turns a parsed query into getters and predicates bound to one org."""

    def __init__(self, org: Org):
        self.org = org
        # (object, field) -> (org version, value -> [(position, record)]): what Salesforce's
        # indexes on Id and lookup fields do, so `Field IN (...)` does not scan the table
        self._indexes: dict[tuple[str, str], tuple[int, dict[Any, list[tuple[int, Record]]]]] = {}

    def execute(
        self, text: str, *, include_deleted: bool = False, allow_children: bool = True
    ) -> Result:
        query = parse(text)
        if query.subqueries and not allow_children:
            raise SoqlError("Nested queries are not supported", "API_ERROR")
        with self.org.lock:
            return self._execute(query, include_deleted)

    def _execute(self, query: Query, include_deleted: bool) -> Result:
        obj = self._object(query.sobject)
        paths = [self.path(obj, item) for item in query.select if isinstance(item, FieldRef)]
        keep = self.predicate(obj, query.where) if query.where else None
        scan = self._indexed(obj, query.where) if query.where else None
        rows = [
            r
            for r in (self.org.records[obj.name].values() if scan is None else scan)
            if (include_deleted or not r["IsDeleted"]) and (keep is None or keep(r))
        ]
        self._sort(obj, rows, query)
        start = query.offset or 0
        rows = rows[start : start + query.limit if query.limit is not None else None]
        children = [self._child(obj, sub) for sub in query.subqueries]
        return Result(self.org, obj, rows, paths, children, count_only=query.is_count)

    def _indexed(self, obj: ObjectDef, where: Expr) -> list[Record] | None:
        """The records a `<Id or lookup> IN (...)` condition (alone or in an AND) can match,
        in table order; None when no such condition narrows the query (scan the table)."""
        items = where.items if isinstance(where, And) else (where,)
        for expr in items:
            if not isinstance(expr, InList) or expr.negate or len(expr.field.path) != 1:
                continue
            path = self.path(obj, expr.field)
            if path.fdef.type not in _IDS:
                continue
            index = self._index(obj, path)
            wanted = {self._literal(path, v) for v in expr.values}
            found = [hit for value in wanted for hit in index.get(value, ())]
            return [record for _, record in sorted(found, key=lambda hit: hit[0])]
        return None

    def _index(self, obj: ObjectDef, path: _Path) -> dict[Any, list[tuple[int, Record]]]:
        cached = self._indexes.get((obj.name, path.name))
        if cached is not None and cached[0] == self.org.version:
            return cached[1]
        index: dict[Any, list[tuple[int, Record]]] = {}
        for position, record in enumerate(self.org.records[obj.name].values()):
            index.setdefault(path.getter(record), []).append((position, record))
        self._indexes[(obj.name, path.name)] = (self.org.version, index)
        return index

    def _object(self, name: str) -> ObjectDef:
        for obj in self.org.schema.values():
            if obj.name.lower() == name.lower() and obj.queryable:
                return obj
        raise SoqlError(
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name.",
            "INVALID_TYPE",
        )

    def _sort(self, obj: ObjectDef, rows: list[Record], query: Query) -> None:
        for order in reversed(query.order_by):
            path = self.path(obj, order.field)
            if not path.fdef.filterable:
                raise SoqlError(
                    f"field '{path.name}' can not be sorted in a query call", "INVALID_FIELD"
                )
            null_rank = 1 if order.nulls_last != order.descending else 0
            getter = path.getter
            folded = path.fdef.type in _TEXT

            def key(r: Record, g: Getter = getter, n: int = null_rank, f: bool = folded) -> Any:
                value = g(r)
                if value is None:
                    return (n, "")
                return (1 - n, value.casefold() if f else value)

            rows.sort(key=key, reverse=order.descending)

    def _child(self, obj: ObjectDef, sub: SubQuery) -> _Child:
        rel = obj.child(sub.query.sobject)
        if rel is None:
            raise SoqlError(
                f"Didn't understand relationship '{sub.query.sobject}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name.",
                "INVALID_TYPE",
            )
        child_obj = self.org.schema[rel.child]
        paths = [self.path(child_obj, i) for i in sub.query.select if isinstance(i, FieldRef)]
        keep = self.predicate(child_obj, sub.query.where) if sub.query.where else None
        rows = [
            r
            for r in self.org.records[child_obj.name].values()
            if not r["IsDeleted"] and (keep is None or keep(r))
        ]
        self._sort(child_obj, rows, sub.query)
        by_parent: dict[str, list[Record]] = {}
        for row in rows:
            parent = row.get(rel.field)
            if parent:
                by_parent.setdefault(parent, []).append(row)
        return _Child(rel.name, child_obj, paths, by_parent, sub.query.limit)

    # --- field paths ------------------------------------------------------------------------

    def path(self, obj: ObjectDef, ref: FieldRef) -> _Path:
        parts = ref.path
        if len(parts) > 1 and parts[0].lower() == obj.name.lower() and obj.field(parts[1]):
            parts = parts[1:]  # `Opportunity.Name` in a query FROM Opportunity
        hops: list[tuple[str, str]] = []
        targets = [obj]
        for hop in parts[:-1]:
            ref_field = targets[0].relationship(hop) if len(targets) == 1 else None
            if ref_field is None:
                raise SoqlError(
                    f"Didn't understand relationship '{hop}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name.",
                    "INVALID_FIELD",
                )
            hops.append((ref_field.relationship_name or hop, ref_field.name))
            targets = [self.org.schema[name] for name in ref_field.reference_to]
        fdef = next((t.field(parts[-1]) for t in targets if t.field(parts[-1])), None)
        if fdef is None:
            raise SoqlError(
                f"No such column '{parts[-1]}' on entity '{targets[0].name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the "
                "custom field name.",
                "INVALID_FIELD",
            )
        return _Path(
            self._getter(tuple(h[1] for h in hops), fdef.name), fdef, tuple(hops), fdef.name
        )

    def _getter(self, ref_fields: tuple[str, ...], name: str) -> Getter:
        if not ref_fields:
            return lambda r: r.get(name)
        find = self.org.find

        def get(record: Record) -> Any:
            current: Record | None = record
            for ref_field in ref_fields:
                current = find(current.get(ref_field)) if current is not None else None
            return current.get(name) if current is not None else None

        return get

    # --- predicates -------------------------------------------------------------------------

    def predicate(self, obj: ObjectDef, expr: Expr) -> Callable[[Record], bool]:
        if isinstance(expr, And):
            parts = [self.predicate(obj, e) for e in expr.items]
            return lambda r: all(p(r) for p in parts)
        if isinstance(expr, Or):
            parts = [self.predicate(obj, e) for e in expr.items]
            return lambda r: any(p(r) for p in parts)
        if isinstance(expr, Not):
            inner = self.predicate(obj, expr.item)
            return lambda r: not inner(r)
        path = self.path(obj, expr.field)
        if not path.fdef.filterable:
            raise SoqlError(
                f"field '{path.name}' can not be filtered in a query call", "INVALID_FIELD"
            )
        if isinstance(expr, Compare):
            return self._compare(path, expr.op, self._literal(path, expr.value))
        if isinstance(expr, InList):
            wanted = {self._key(path, self._literal(path, v)) for v in expr.values}
            return self._membership(path, wanted, expr.negate)
        if isinstance(expr, InQuery):
            return self._semi_join(path, expr)
        return self._like(path, expr)

    def _literal(self, path: _Path, value: Value) -> Value:
        kind = path.fdef.type
        if value is None:
            return None
        ok = (
            (kind == "datetime" and isinstance(value, datetime))
            or (kind == "date" and isinstance(value, date) and not isinstance(value, datetime))
            or (kind == "boolean" and isinstance(value, bool))
            or (kind in _NUMBERS and isinstance(value, int | float) and not isinstance(value, bool))
            or ((kind in _TEXT or kind in _IDS) and isinstance(value, str))
        )
        if not ok:
            soap = _SOAP_TYPES.get(kind, kind)
            quoted = "should not" if kind in _SOAP_TYPES or kind in _NUMBERS else "should"
            raise SoqlError(
                f"value of filter criterion for field '{path.name}' must be of type {soap} "
                f"and {quoted} be enclosed in quotes",
                "INVALID_FIELD",
            )
        if kind in _IDS and isinstance(value, str) and len(value) == 15:
            return full_id(value)
        return value

    @staticmethod
    def _key(path: _Path, value: Any) -> Any:
        if isinstance(value, str) and path.fdef.type in _TEXT:
            return value.casefold()
        return value

    def _compare(self, path: _Path, op: str, value: Value) -> Callable[[Record], bool]:
        get = path.getter
        folded = path.fdef.type in _TEXT
        target = self._key(path, value)
        if op in ("=", "!="):
            equal = op == "="

            def eq(r: Record) -> bool:
                current = get(r)
                if folded and isinstance(current, str):
                    current = current.casefold()
                return (current == target) is equal

            return eq
        if target is None:
            raise SoqlError(f"invalid operator on null for field '{path.name}'", "INVALID_FIELD")
        ops: dict[str, Callable[[Any, Any], bool]] = {
            "<": lambda a, b: bool(a < b),
            "<=": lambda a, b: bool(a <= b),
            ">": lambda a, b: bool(a > b),
            ">=": lambda a, b: bool(a >= b),
        }
        check = ops[op]

        def ordered(r: Record) -> bool:
            current = get(r)
            if current is None:
                return False
            if folded and isinstance(current, str):
                current = current.casefold()
            return check(current, target)

        return ordered

    def _membership(self, path: _Path, wanted: set[Any], negate: bool) -> Callable[[Record], bool]:
        get = path.getter
        folded = path.fdef.type in _TEXT

        def member(r: Record) -> bool:
            current = get(r)
            if folded and isinstance(current, str):
                current = current.casefold()
            return (current in wanted) != negate

        return member

    def _semi_join(self, path: _Path, expr: InQuery) -> Callable[[Record], bool]:
        if path.fdef.type not in _IDS:
            raise SoqlError(
                "semi join sub-selects require an Id or reference field", "INVALID_FIELD"
            )
        inner = self._execute(expr.query, include_deleted=False)
        if len(inner.paths) != 1 or inner.paths[0].fdef.type not in _IDS:
            raise SoqlError("a semi join sub-select must select one Id or reference field")
        ids = {inner.paths[0].getter(r) for r in inner.records} - {None}
        return self._membership(path, ids, expr.negate)

    def _like(self, path: _Path, expr: Like) -> Callable[[Record], bool]:
        if path.fdef.type not in _TEXT and path.fdef.type not in _IDS:
            raise SoqlError(
                f"invalid operator on field '{path.name}': LIKE needs a text field",
                "INVALID_FIELD",
            )
        pattern = like_regex(expr.pattern)
        get = path.getter

        def like(r: Record) -> bool:
            current = get(r)
            return isinstance(current, str) and pattern.match(current) is not None

        return like
