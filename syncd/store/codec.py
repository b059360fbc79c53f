"""JSON encoding of the model's dataclasses for the state store.

One generic pair of functions driven by the dataclasses' type hints, so adding a field to
the model needs no change here (new optional fields decode from old rows as their default).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import sys
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from syncd import compiled

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A JSON-safe rendering of a model value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(encode(v) for v in value)
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    if not compiled(cls.__module__):
        return typing.get_type_hints(cls)
    module = sys.modules[cls.__module__]
    return _source_hints(cls, vars(module), module.__file__ or "")


def _source_hints(cls: type, namespace: dict[str, Any], path: str) -> dict[str, Any]:
    """Field types of a class compiled by mypyc (the compiled build, see setup.py).

    A compiled class keeps in its annotations only what mypyc represents natively, so
    `Account | None` reads as `type`. The module's source ships next to the compiled one:
    its annotations are evaluated in the module's namespace instead.
    """
    source = os.path.join(os.path.dirname(path), cls.__module__.rsplit(".", 1)[-1] + ".py")
    with open(source, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), source)
    body = next(
        node.body
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__
    )
    scope = {**vars(typing), **namespace}
    return {
        node.target.id: eval(ast.unparse(node.annotation), scope)  # noqa: S307  (our own source)
        for node in body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }


def decode(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass of type `cls` from `encode`'s output."""
    hints = _hints(typing.cast(type, cls))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _decode_value(hints[f.name], data[f.name])
    return cls(**kwargs)


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decode_value(inner[0], value) if len(inner) == 1 else value
    if origin is frozenset:
        return frozenset(_decode_value(args[0], v) for v in value)
    if origin is tuple:
        return tuple(_decode_value(args[0], v) for v in value)
    if origin is list:
        return [_decode_value(args[0], v) for v in value]
    if origin is dict:
        return dict(value)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return decode(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is date:
            return date.fromisoformat(value)
        if hint is float:
            return float(value)
    return value
