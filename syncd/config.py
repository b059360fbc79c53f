"""The one config file: TOML validated into frozen pydantic models.

Every problem is reported at once, each with its key path (`shards.crm.page_size: …`), and an
unknown key is an error: a typo must never pass silently. Connector sections are validated by
their plugin's own settings model, so a third-party connector gets the same treatment.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from syncd.connectors import ConfigError, known_connector_types, load_plugin
from syncd.policy.config import PolicyConfig
from syncd.replies.config import RepliesConfig
from syncd.secrets import Secret, SecretError, SecretRef

DEFAULT_CONFIG_PATH = Path("/etc/syncd/syncd.toml")
SHARD_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
CORE_SHARD_KEYS = frozenset(
    {
        "type",
        "enabled",
        "poll_interval_s",
        "lag_s",
        "crm",
        "owner",
        "owner_fallback",
        "fallback_owner",
    }
)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StateConfig(Frozen):
    # Empty: a SQLite file `syncd.db` in $STATE_DIRECTORY (systemd's StateDirectory=),
    # else in $XDG_STATE_HOME/syncd, else ~/.local/state/syncd.
    url: str = ""
    # The database password, when the URL needs one: a secret reference, never the value.
    password: Secret | None = None
    # PostgreSQL only: how long a shard lease lasts before another instance may take it.
    lease_s: float = Field(default=60.0, gt=0)
    # Retention, in days (0 keeps forever): audit rows (decisions, write outcomes, replays),
    # and outbox rows of writes done or cancelled. Dead writes are always kept.
    audit_retention_days: float = Field(default=400.0, ge=0)
    outbox_retention_days: float = Field(default=90.0, ge=0)


class DaemonConfig(Frozen):
    poll_interval_s: float = Field(default=300.0, gt=0)
    watchdog: bool = True


class EngineConfig(Frozen):
    lag_s: float = Field(default=60.0, ge=0)  # read only records older than this (index lag)
    max_attempts: int = Field(default=8, ge=1)  # then the write goes to the dead letters
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=3600.0, gt=0)
    dispatch_batches_per_cycle: int = Field(default=50, ge=1)


class LoggingConfig(Frozen):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class MetricsConfig(Frozen):
    listen: str = ""  # "127.0.0.1:9464" to serve /metrics, /healthz and /readyz; empty = off

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value and (":" not in value or not value.rsplit(":", 1)[1].isdigit()):
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9464")
        return value


class ShardConfig(Frozen):
    type: str
    enabled: bool = True
    poll_interval_s: float | None = Field(default=None, gt=0)
    lag_s: float | None = Field(default=None, ge=0)
    crm: str | None = None  # for mailbox shards: the CRM shard used as directory and task sink
    # Who gets the tasks (see docs/admin-guide.md, "Who gets the task"). A mailbox shard's
    # `owner` is its rep's CRM user id: replies to that mailbox are theirs. A CRM shard's
    # `owner_fallback` is the order tried when a record's owner is inactive (or a queue):
    # "account_owner", then "fallback_owner" (a user or queue id set in `fallback_owner`).
    owner: str | None = None
    owner_fallback: tuple[Literal["account_owner", "fallback_owner"], ...] = (
        "account_owner",
        "fallback_owner",
    )
    fallback_owner: str | None = None


@dataclass(frozen=True)
class Shard:
    """A configured connector instance with its plugin-validated settings."""

    name: str
    core: ShardConfig
    settings: BaseModel


class SyncdConfig(Frozen):
    state: StateConfig = StateConfig()
    daemon: DaemonConfig = DaemonConfig()
    engine: EngineConfig = EngineConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()
    policy: PolicyConfig = PolicyConfig()
    replies: RepliesConfig = RepliesConfig()
    shards: dict[str, ShardConfig] = Field(default_factory=dict)

    @field_validator("shards")
    @classmethod
    def _shard_names(cls, shards: dict[str, ShardConfig]) -> dict[str, ShardConfig]:
        for name in shards:
            if not SHARD_NAME.fullmatch(name):
                raise ValueError(
                    f"shard name {name!r} may hold only letters, digits and . _ @ - "
                    "(it is part of every record key syncd stores)"
                )
        return shards


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    core: SyncdConfig
    shards: dict[str, Shard]

    def shard(self, name: str) -> Shard:
        return self.shards[name]


class ConfigInvalid(ConfigError):
    """All the problems found in one config file."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n{listing}")


def resolve_path(explicit: str | None) -> Path:
    """--config, else $SYNCD_CONFIG, else /etc/syncd/syncd.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("SYNCD_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def _loc(prefix: tuple[str | int, ...], loc: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in (*prefix, *loc)) or "(top level)"


def _problems(err: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[str]:
    # Only location and message: pydantic's input_value could echo a pasted secret.
    return [f"{_loc(prefix, tuple(e['loc']))}: {e['msg']}" for e in err.errors()]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigInvalid(
            path, ["file not found; pass --config PATH or set $SYNCD_CONFIG"]
        ) from None
    if mode & stat.S_IWOTH:
        raise ConfigInvalid(path, [f"writable by others; run: chmod o-w {path}"])
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(path, [f"not valid TOML: {exc}"]) from None


def load_config(path: Path, *, check_secrets: bool = False) -> LoadedConfig:
    """Load and validate; raises ConfigInvalid listing every problem found."""
    raw = _read_toml(path)
    return parse_config(raw, path, check_secrets=check_secrets)


def parse_config(
    raw: dict[str, Any], path: Path = Path("<config>"), *, check_secrets: bool = False
) -> LoadedConfig:
    problems: list[str] = []
    raw_shards = raw.get("shards", {})
    core_raw = dict(raw)
    core_shards: dict[str, Any] = {}
    plugin_raw: dict[str, dict[str, Any]] = {}
    if isinstance(raw_shards, dict):
        for name, section in raw_shards.items():
            if not isinstance(section, dict):
                core_shards[name] = section  # let pydantic report the type error
                continue
            core_shards[name] = {k: v for k, v in section.items() if k in CORE_SHARD_KEYS}
            plugin_raw[name] = {k: v for k, v in section.items() if k not in CORE_SHARD_KEYS}
        core_raw["shards"] = core_shards
    core: SyncdConfig | None = None
    try:
        core = SyncdConfig.model_validate(core_raw)
    except ValidationError as exc:
        problems.extend(_problems(exc))

    shards: dict[str, Shard] = {}
    for name, section in plugin_raw.items():
        type_name = raw_shards[name].get("type")
        if not isinstance(type_name, str):
            continue  # already reported as a missing / wrong `type`
        try:
            plugin = load_plugin(type_name)
        except ConfigError as exc:
            problems.append(f"shards.{name}.type: {exc}")
            continue
        except ImportError as exc:
            problems.append(f"shards.{name}.type: connector {type_name!r} failed to load: {exc}")
            continue
        try:
            settings = plugin.settings_model.model_validate(section)
        except ValidationError as exc:
            problems.extend(_problems(exc, ("shards", name)))
            continue
        if core is not None and name in core.shards:
            shards[name] = Shard(name, core.shards[name], settings)

    if core is not None:
        for name, shard_cfg in core.shards.items():
            if shard_cfg.crm is not None and shard_cfg.crm not in core.shards:
                problems.append(
                    f"shards.{name}.crm: no shard named {shard_cfg.crm!r} "
                    f"(configured: {', '.join(sorted(core.shards)) or 'none'})"
                )
    if check_secrets:
        for where, ref in _secret_refs(raw, shards):
            try:
                ref.reveal()
            except (SecretError, OSError) as exc:
                problems.append(f"{where}: {exc}")
    if problems or core is None:
        raise ConfigInvalid(path, problems)
    return LoadedConfig(path=path, core=core, shards=shards)


def _secret_refs(raw: dict[str, Any], shards: dict[str, Shard]) -> Iterator[tuple[str, SecretRef]]:
    for name, shard in shards.items():
        yield from _walk(shard.settings, f"shards.{name}")


def _walk(model: BaseModel, where: str) -> Iterator[tuple[str, SecretRef]]:
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        if isinstance(value, SecretRef):
            yield f"{where}.{field_name}", value
        elif isinstance(value, BaseModel):
            yield from _walk(value, f"{where}.{field_name}")


def describe_known_types() -> str:
    return ", ".join(known_connector_types())
