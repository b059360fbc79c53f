"""`syncd sandbox` and `syncd demo`: the local fakes of every installed connector, seeded.

Each connector that ships a fake contributes a `SandboxPart`; CRMs start first so a mailbox
can be wired to one. The composed config points syncd at the fakes, with secrets in 0600
files under the sandbox's work directory, never in the config text.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import structlog

from syncd.connectors import ENTRY_POINT_GROUP, SandboxPart, SandboxShard
from syncd.testing.demo_data import demo_world
from syncd.testing.plugin import demo_events, write_events

log = structlog.get_logger(__name__)

# The demo's policy: a profile that some seeded accounts miss, so every outcome shows.
DEMO_POLICY: dict[str, Any] = {
    "horizon_days": 7,
    "icp": {"min_employees": 20, "unknown_is_fit": True},
}


@dataclass
class Sandbox:
    shards: list[SandboxShard]
    config: dict[str, Any]
    workdir: Path

    def urls(self) -> dict[str, str]:
        return {s.name: s.base_url for s in self.shards}


def available_parts() -> list[tuple[str, SandboxPart]]:
    parts: list[tuple[str, SandboxPart]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == "fake":
            continue
        try:
            part = getattr(ep.load(), "sandbox", None)
        except ImportError as exc:
            log.warning("sandbox.part_unavailable", connector=ep.name, error=str(exc))
            continue
        if part is not None:
            parts.append((ep.name, part))
    return sorted(parts, key=lambda p: (p[1].order, p[0]))


def _fallback(seed: str, workdir: Path) -> SandboxShard:
    """No connector ships a fake: use the file-backed `fake` connector with the demo deals."""
    events_file = workdir / "events.jsonl"
    world = demo_world() if seed == "demo" else None
    write_events(events_file, demo_events(world, "crm") if world else [])
    section = {
        "type": "fake",
        "events_file": str(events_file),
        "remote_db": str(workdir / "remote.db"),
        "batch_size": 50,
    }
    return SandboxShard("crm", f"file://{workdir}", section, lambda: None)


@contextmanager
def sandbox(
    workdir: Path,
    *,
    seed: str = "demo",
    port_base: int = 0,
    parts: list[tuple[str, SandboxPart]] | None = None,
) -> Iterator[Sandbox]:
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    started: list[SandboxShard] = []
    crm_shards: dict[str, str] = {}
    try:
        for i, (type_name, part) in enumerate(parts if parts is not None else available_parts()):
            shard = part.start(
                port=port_base + i if port_base else 0,
                seed=seed,
                workdir=workdir,
                crm_shards=dict(crm_shards),
            )
            started.append(shard)
            if part.order == 0:
                crm_shards[type_name] = shard.name
        if not started:
            started.append(_fallback(seed, workdir))
        config = {
            "state": {"url": f"sqlite:///{workdir / 'state.db'}"},
            "engine": {"lag_s": 0.0},
            "policy": DEMO_POLICY,
            "shards": {s.name: s.section for s in started},
        }
        yield Sandbox(started, config, workdir)
    finally:
        for shard in reversed(started):
            shard.stop()


def serve(*, seed: str, port_base: int, write_config: Path | None, stop: threading.Event) -> None:
    """`syncd sandbox`: run the fakes until `stop` is set (Ctrl-C), then delete the work
    directory with the private keys and state in it. One JSON line on stdout says where
    everything is (for scripts); stderr says the same for a person."""
    workdir = Path(tempfile.mkdtemp(prefix="syncd-sandbox-"))  # 0700
    try:
        with sandbox(workdir, seed=seed, port_base=port_base) as box:
            if write_config is not None:
                _write_private(write_config, to_toml(box.config))
            urls = box.urls()
            print(
                json.dumps(
                    {"urls": urls, "config": str(write_config or ""), "workdir": str(workdir)}
                ),
                flush=True,
            )
            lines = [f"syncd sandbox running; work dir {workdir} (deleted on exit)"]
            lines += [f"  {name:<12} {url}" for name, url in urls.items()]
            if write_config is not None:
                lines.append(f"config: {write_config}  (try: syncd --config {write_config} plan)")
            lines.append("Ctrl-C to stop")
            print("\n".join(lines), file=sys.stderr, flush=True)
            stop.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"syncd sandbox stopped; removed {workdir}", file=sys.stderr, flush=True)


def write_secret(path: Path, content: str) -> Path:
    """A connector sandbox's key or secret file: created 0600 (never briefly readable by
    others) and kept 0600 if it was already there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    os.chmod(path, 0o600)
    return path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def to_toml(config: dict[str, Any]) -> str:
    """Render the sandbox config (tables of scalars and lists) as TOML."""
    lines: list[str] = []

    def table(path: str, data: dict[str, Any]) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
        if scalars or not data:
            lines.append(f"[{path}]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
            lines.append("")
        for k, v in data.items():
            if isinstance(v, dict):
                table(f"{path}.{_key(k)}", v)

    for name, section in config.items():
        table(_key(name), section)
    return "\n".join(lines)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))
