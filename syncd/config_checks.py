"""Checks on config text that pydantic cannot make, each a problem with its key path.

Reading: a file that is not UTF-8, nested too deeply, too large or holding an integer
Python refuses to parse is a problem, never a traceback. Before validation every number is
checked to be finite and of a sane size, so no value can overflow a date or a sleep at run
time. After validation, an unknown key gets a "did you mean" from the keys of its section.
"""

from __future__ import annotations

import difflib
import math
import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import iso3166
from pydantic import BaseModel
from pydantic_core import ErrorDetails

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 16  # the deepest real section is [shards.NAME.lead_statuses] or a policy list
# No setting needs more: a larger number is a typo or a fuzzer, and would overflow a date.
MAX_NUMBER = 1e15


def read_toml_text(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """(parsed TOML, problems); never raises for bad content."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [f"cannot be read ({exc.strerror or type(exc).__name__})"]
    if len(data) > MAX_FILE_BYTES:
        return None, [f"is {len(data)} bytes; a syncd config is at most {MAX_FILE_BYTES}"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [f"line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return None, [f"not valid TOML: {exc}"]
    except RecursionError:
        return None, [f"nested too deeply (a syncd config needs at most {MAX_DEPTH} levels)"]
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return None, [f"not valid TOML: {str(exc).splitlines()[0]}"]


def number_problems(raw: Any, path: tuple[str | int, ...] = ()) -> Iterator[str]:
    """Non-finite or oversized numbers, and nesting deeper than MAX_DEPTH."""
    where = ".".join(str(p) for p in path) or "(top level)"
    if len(path) > MAX_DEPTH:
        yield f"{where}: nested too deeply (at most {MAX_DEPTH} levels)"
        return
    if isinstance(raw, dict):
        for key, value in raw.items():
            yield from number_problems(value, (*path, key))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            yield from number_problems(value, (*path, index))
    elif isinstance(raw, float) and not math.isfinite(raw):
        yield f"{where}: must be a finite number, not {raw}"
    elif isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) > MAX_NUMBER:
        yield f"{where}: {_short(raw)} is out of range (at most {MAX_NUMBER:.0e})"


def _short(number: float) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"a {len(text)}-digit number"


def error_message(error: ErrorDetails, model: type[BaseModel]) -> str:
    """Pydantic's message, with a suggestion for an unknown key."""
    if error["type"] != "extra_forbidden":
        return error["msg"]
    loc = tuple(error["loc"])
    known = fields_at(model, loc[:-1])
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), sorted(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys here: {', '.join(sorted(known))}"


def fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> set[str]:
    """The field names of the model found at `loc` inside `model` (empty when not a model)."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return set()
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple, set, frozenset) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def check_timezone(name: str) -> str:
    """A pydantic validator body: an IANA time zone, with a suggestion when misspelt."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (e.g. 'Europe/Berlin')"
        raise ValueError(f"{name!r} is not an IANA time zone{hint}") from None
    return name


def check_country(value: str, aliases: dict[str, str] | None = None) -> str:
    """An ISO 3166-1 country code, or a name the configured aliases map to one."""
    text = value.strip()
    if aliases and " ".join(text.casefold().split()) in aliases:
        return value
    if len(text) == 2 and text.isalpha():
        if text.upper() in iso3166.countries_by_alpha2:
            return value
        raise ValueError(f"{value!r} is not an ISO 3166-1 country code")
    try:
        country = iso3166.countries.get(text)
    except KeyError:
        names = [c.name for c in iso3166.countries]
        close = difflib.get_close_matches(text, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{value!r} is not a country (use an ISO 3166-1 code such as 'DE'){hint}"
        ) from None
    raise ValueError(
        f"write {value!r} as its ISO code {country.alpha2!r} (accounts are matched by code), "
        "or add it to policy.calendar.country_aliases"
    )
