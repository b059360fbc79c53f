"""`syncd doctor`: every check of what a shard's reads and writes need, with the fix.

A connector's `doctor(settings, fix=False)` hook returns `Check`s: auth, the custom key
field or property, the picklist values its writes use, the owner fallback, and so on. Doctor
only reads; with `fix=True` a connector may make the one change syncd itself needs (the
idempotency key field or property), and says so in the check. Each check is printed with
ok / FAIL and, when it fails, what to do; the exit code is 1 when any check failed.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from structlog.contextvars import bound_contextvars

from syncd.config import LoadedConfig, Shard
from syncd.connectors import ConfigError, SyncError, load_plugin


@dataclass(frozen=True)
class Check:
    """One thing doctor looked at: `name` is stable (for scripts), `detail` says what it
    found, `fix` what to do when it failed; `fixed` is True when `--fix` repaired it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    fixed: bool = False


def passed(name: str, detail: str, *, fixed: bool = False) -> Check:
    return Check(name, True, detail, fixed=fixed)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def values_check(name: str, what: str, used: Iterable[str], valid: Sequence[str]) -> Check:
    """The picklist (enumeration) values a write uses must all be among the valid ones."""
    missing = sorted(set(used) - set(valid))
    if not missing:
        return passed(name, f"{what} accepts {', '.join(sorted(set(used)))}")
    return failed(
        name,
        f"{what} has no value {', '.join(repr(m) for m in missing)}; "
        f"valid values: {', '.join(valid) or '(none)'}",
        f"use one of the valid values, or add {', '.join(repr(m) for m in missing)} to {what}",
    )


def as_checks(results: Iterable[Check | str]) -> list[Check]:
    """A plugin's answer as checks; a plain string (the older hook) is a failed check."""
    return [r if isinstance(r, Check) else failed("problem", r, "see the message") for r in results]


def select_shards(config: LoadedConfig, wanted: str | None) -> list[Shard]:
    """The shard named (or the shards of the connector type named); every enabled one when
    None."""
    if wanted is None:
        return [s for s in config.shards.values() if s.core.enabled]
    if wanted in config.shards:
        return [config.shards[wanted]]
    typed = [s for s in config.shards.values() if s.core.type == wanted]
    if not typed:
        known = ", ".join(sorted(config.shards)) or "(none)"
        raise ConfigError(f"no shard named or typed {wanted!r} in {config.path}; shards: {known}")
    return typed


def diagnose(shard: Shard, *, fix: bool) -> list[Check]:
    plugin = load_plugin(shard.core.type)
    hook: Any = getattr(plugin, "doctor", None)
    if hook is None:
        return [passed("doctor", f"connector {shard.core.type!r} has no remote set-up to check")]
    takes_fix = "fix" in inspect.signature(hook).parameters  # older hooks only check
    try:
        with bound_contextvars(shard=shard.name):
            return as_checks(hook(shard.settings, fix=fix) if takes_fix else hook(shard.settings))
    except SyncError as exc:
        return [failed("connect", str(exc), "fix the connection settings or credentials")]


def run(config: LoadedConfig, wanted: str | None, *, fix: bool, as_json: bool, out: TextIO) -> int:
    """Check the shards, print the report; 0 when every check passed, else 1."""
    report = {s.name: diagnose(s, fix=fix) for s in select_shards(config, wanted)}
    ok = all(c.ok for checks in report.values() for c in checks)
    if as_json:
        data = {
            "ok": ok,
            "shards": {
                name: {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
                for name, checks in report.items()
            },
        }
        out.write(json.dumps(data) + "\n")
    else:
        out.write(render(report) + "\n")
    return 0 if ok else 1


def render(report: dict[str, list[Check]]) -> str:
    lines: list[str] = []
    for name, checks in report.items():
        bad = sum(not c.ok for c in checks)
        verdict = "all passed" if not bad else f"{bad} failed"
        lines.append(f"{name}: {len(checks)} checks, {verdict}")
        width = max((len(c.name) for c in checks), default=0)
        for c in checks:
            mark = ("fixed" if c.fixed else "ok") if c.ok else "FAIL"
            lines.append(f"  {mark:<5}  {c.name:<{width}}  {c.detail}")
            if not c.ok and c.fix:
                lines.append(f"  {'':<5}  {'':<{width}}  fix: {c.fix}")
    return "\n".join(lines)
