"""The state store's encoding of the model's dataclasses: msgspec, driven by the annotations.

`encode` renders a value as JSON-safe builtins (enums as values, dates as ISO strings, sets
sorted) and leaves out every field that holds its default (None, empty, False), so rows
carry what a record says and not the shape of the class: a Prospect the CRM knows little
about costs a few dozen bytes. `decode` rebuilds the dataclass from that with msgspec,
filling the missing fields with their defaults, so a field added to the model later reads
from old rows as its default, and rows written before the compact form decode alike.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _compact(v)
            for k, v in value.items()
            if not (v is None or v is False or v == [] or v == {} or v == ())
        }
    if isinstance(value, list | tuple):
        return [_compact(v) for v in value]
    return value


def encode(value: Any) -> Any:  # a dict for a dataclass
    """A compact JSON-safe rendering of a model value (see the module's docstring)."""
    return _compact(msgspec.to_builtins(value, order="deterministic"))


def decode(cls: type[T], data: Any) -> T:
    """Rebuild a value of type `cls` from `encode`'s output (or from JSON bytes)."""
    if isinstance(data, bytes | str):
        return msgspec.json.decode(data, type=cls)
    return msgspec.convert(data, cls)


def dumps(value: Any) -> str:
    """JSON text for a column (the engine's serialiser): compact, UTF-8, no spaces."""
    return msgspec.json.encode(value).decode()


def loads(text: str | bytes) -> Any:
    return msgspec.json.decode(text)
