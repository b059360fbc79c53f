"""The state store's encoding of the model's dataclasses: msgspec, driven by the annotations.

`encode` renders a value as JSON-safe builtins (enums as values, dates as ISO strings, sets
sorted) and `decode` rebuilds the dataclass from them, filling missing fields with their
defaults, so a field added to the model later reads from old rows as its default.

`dumps`, the serialiser of every JSON column, writes compact JSON and leaves out each object
member whose value is null, [] or {}: every such field of the model defaults to exactly that
(a test keeps it so), so rows carry what a record says and not the shape of its class.
(`false` stays: a flag may default to true.) The state's JSON columns store that text
compressed against a dictionary per column (`store.packed`); the cursors' keep it as it is.
The members are dropped from the encoded text, where a quote inside a string is always
escaped, so the pattern below cannot match inside a string.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_KEY = rb'"(?:[^"\\]|\\.)*"'
_EMPTY = rb"(?:null|\[\]|\{\})"
_AFTER = re.compile(rb",%s:%s(?=[,}])" % (_KEY, _EMPTY))  # a member after another one
_FIRST = re.compile(rb"(?<=\{)%s:%s(?:,|(?=\}))" % (_KEY, _EMPTY))  # an object's first one
_ENCODER = msgspec.json.Encoder(order="deterministic")


def encode(value: Any) -> Any:  # a dict for a dataclass
    """JSON-safe builtins for a model value (sets sorted, so equal values encode alike)."""
    return msgspec.to_builtins(value, order="deterministic")


def decode(cls: type[T], data: Any) -> T:
    """Rebuild a value of type `cls` from `encode`'s output (or from JSON text)."""
    if isinstance(data, bytes | str):
        return msgspec.json.decode(data, type=cls)
    return msgspec.convert(data, cls)


def dumps(value: Any) -> str:
    """Compact JSON for a column, without members that are null or empty."""
    text = _ENCODER.encode(value)
    if b"null" in text or b"[]" in text or b"{}" in text:
        text = _FIRST.sub(b"", _AFTER.sub(b"", text))
    return text.decode()


def loads(text: str | bytes) -> Any:
    return msgspec.json.decode(text)
