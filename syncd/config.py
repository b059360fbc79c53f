"""The one config file: TOML validated into frozen pydantic models.

Every problem is reported at once, each with its key path (`shards.crm.page_size: …`), and an
unknown key is an error: a typo must never pass silently. Connector sections are validated by
their plugin's own settings model, so a third-party connector gets the same treatment.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncd.config_checks import error_message, number_problems, read_toml_text
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


DAY_S = 86_400.0
STATE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def check_state_url(url: str) -> str:
    """SQLite or PostgreSQL, spelt right, with no password in it."""
    if not url:
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            "not a database URL; use sqlite:////var/lib/syncd/syncd.db or "
            "postgresql://user@host/dbname"
        ) from None
    scheme = parsed.drivername
    if scheme not in STATE_SCHEMES:
        close = difflib.get_close_matches(scheme, STATE_SCHEMES, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"scheme {scheme!r} is not supported; {hint}syncd keeps its state in SQLite "
            "(sqlite:///PATH) or PostgreSQL (postgresql://user@host/dbname)"
        )
    database = parsed.database or ""
    if scheme == "sqlite" and database not in ("", ":memory:") and not database.startswith("/"):
        # sqlite:///var/lib/… (three slashes) is relative: the state would follow the working
        # directory, and a run from elsewhere would start afresh and write everything again.
        raise ValueError(
            f"the SQLite path {database!r} is relative to the working directory; use an "
            f"absolute path, with four slashes: sqlite:////{database.lstrip('./')}"
        )
    if parsed.password is not None:
        raise ValueError(
            "holds a password; remove it from the URL and set [state] password = "
            "'env:NAME' (or file:/credential:) instead"
        )
    return url


class StateConfig(Frozen):
    # Empty: a SQLite file `syncd.db` in $STATE_DIRECTORY (systemd's StateDirectory=),
    # else in $XDG_STATE_HOME/syncd, else ~/.local/state/syncd.
    url: str = ""
    # The database password, when the URL needs one: a secret reference, never the value.
    password: Secret | None = None
    # PostgreSQL only: how long a shard lease lasts before another instance may take it.
    lease_s: float = Field(default=60.0, gt=0, le=3600)
    # Retention, in days (0 keeps forever): audit rows (decisions, write outcomes, replays),
    # and outbox rows of writes done or cancelled. Dead writes are always kept.
    audit_retention_days: float = Field(default=400.0, ge=0, le=36_500)
    outbox_retention_days: float = Field(default=90.0, ge=0, le=36_500)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_state_url(value)


class DaemonConfig(Frozen):
    poll_interval_s: float = Field(default=300.0, gt=0, le=DAY_S)
    watchdog: bool = True
    # A shard whose start-up checks meet a transient error (429, 5xx, timeout) is tried this
    # many times in all, backing off from startup_retry_base_s up to startup_retry_max_s.
    startup_attempts: int = Field(default=5, ge=1, le=20)
    startup_retry_base_s: float = Field(default=2.0, gt=0, le=600)
    startup_retry_max_s: float = Field(default=30.0, gt=0, le=3600)


class EngineConfig(Frozen):
    # read only records older than this (index lag)
    lag_s: float = Field(default=60.0, ge=0, le=7 * DAY_S)
    max_attempts: int = Field(default=8, ge=1, le=100)  # then the write goes to the dead letters
    retry_base_s: float = Field(default=30.0, gt=0, le=DAY_S)
    retry_max_s: float = Field(default=3600.0, gt=0, le=7 * DAY_S)
    dispatch_batches_per_cycle: int = Field(default=50, ge=1, le=10_000)


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
    poll_interval_s: float | None = Field(default=None, gt=0, le=DAY_S)
    lag_s: float | None = Field(default=None, ge=0, le=7 * DAY_S)
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


def _problems(
    err: ValidationError, model: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> list[str]:
    # Only location and message: pydantic's input_value could echo a pasted secret.
    return [
        f"{_loc(prefix, tuple(e['loc']))}: {error_message(e, model)}"
        for e in err.errors(include_url=False)
    ]


def _validate(
    model: type[BaseModel], raw: Any, prefix: tuple[str | int, ...], problems: list[str]
) -> Any:
    """`model` validated from `raw`, or None with the problems appended (never raises)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems(exc, model, prefix))
    except (ArithmeticError, RecursionError, TypeError, ValueError) as exc:
        where = _loc(prefix, ())
        problems.append(f"{where}: a value is out of range or malformed ({type(exc).__name__})")
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigInvalid(
            path, ["file not found; pass --config PATH or set $SYNCD_CONFIG"]
        ) from None
    except OSError as exc:
        raise ConfigInvalid(path, [f"cannot be read ({exc.strerror})"]) from None
    if mode & stat.S_IWOTH:
        raise ConfigInvalid(path, [f"writable by others; run: chmod o-w {path}"])
    if not stat.S_ISREG(mode):
        raise ConfigInvalid(path, ["is not a regular file"])
    raw, problems = read_toml_text(path)
    if raw is None:
        raise ConfigInvalid(path, problems)
    return raw


def load_config(path: Path, *, check_secrets: bool = False) -> LoadedConfig:
    """Load and validate; raises ConfigInvalid listing every problem found."""
    raw = _read_toml(path)
    return parse_config(raw, path, check_secrets=check_secrets)


def parse_config(
    raw: dict[str, Any], path: Path = Path("<config>"), *, check_secrets: bool = False
) -> LoadedConfig:
    problems: list[str] = list(number_problems(raw))
    if problems:  # a value that would overflow at run time: report it, validate no further
        raise ConfigInvalid(path, problems)
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
    core: SyncdConfig | None = _validate(SyncdConfig, core_raw, (), problems)

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
        settings = _validate(plugin.settings_model, section, ("shards", name), problems)
        if settings is None:
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
            elif (
                shard_cfg.crm is not None
                and shard_cfg.enabled
                and not core.shards[shard_cfg.crm].enabled
            ):
                problems.append(
                    f"shards.{name}.crm: the CRM shard {shard_cfg.crm!r} is disabled "
                    f"(shards.{shard_cfg.crm}.enabled = false), and this mailbox matches "
                    "senders and writes tasks through it; enable it, or disable this mailbox too"
                )
    if check_secrets:
        for where, ref in _secret_refs(core, shards):
            try:
                ref.reveal()
            except SecretError as exc:
                problems.append(f"{where}: {exc}")
            except (OSError, ValueError) as exc:
                problems.append(f"{where}: the secret cannot be read ({type(exc).__name__})")
    if problems or core is None:
        raise ConfigInvalid(path, problems)
    return LoadedConfig(path=path, core=core, shards=shards)


def _secret_refs(
    core: SyncdConfig | None, shards: dict[str, Shard]
) -> Iterator[tuple[str, SecretRef]]:
    if core is not None:
        yield from _walk(core, "")
    for name, shard in shards.items():
        yield from _walk(shard.settings, f"shards.{name}")


def secret_refs(model: BaseModel, where: str) -> Iterator[tuple[str, SecretRef]]:
    """Every secret reference in `model`, with its key path under `where`."""
    return _walk(model, where)


def _walk(model: BaseModel, where: str) -> Iterator[tuple[str, SecretRef]]:
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        at = f"{where}.{field_name}" if where else field_name
        if isinstance(value, SecretRef):
            yield at, value
        elif isinstance(value, BaseModel):
            yield from _walk(value, at)


def describe_known_types() -> str:
    return ", ".join(known_connector_types())
