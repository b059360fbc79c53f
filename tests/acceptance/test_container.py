"""The container image's files, checked without a container runtime: the Dockerfile's
rules (multi-stage, pinned, non-root, state in a volume, health check), the entry point run
for real, and the compose file's wiring. `docker compose config` runs where compose exists."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml
from packaging.requirements import Requirement

from syncd.health import HealthServer, Metrics
from syncd.sandbox import sandbox, to_toml

ROOT = Path(__file__).parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
LOCK = ROOT / "docker" / "requirements.lock"
WAIT_S = 120.0


def _stages() -> list[list[dockerfile.Command]]:
    stages: list[list[dockerfile.Command]] = []
    for cmd in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if cmd.cmd == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(cmd)
    return stages


def test_the_image_builds_the_wheel_first_and_runs_unprivileged() -> None:
    """Multi-stage with pinned bases; the final stage holds no build tools or secrets, runs
    as a numeric non-root user, keeps state in a volume and checks /healthz."""
    build, final = _stages()
    assert build[0].value[1:] == ("AS", "build") and "pip wheel" in " ".join(
        c.original for c in build
    )
    for stage in (build, final):
        base = stage[0].value[0]
        assert ":" in base and not base.endswith(":latest"), base
    by_cmd: dict[str, list[dockerfile.Command]] = {}
    for cmd in final:
        by_cmd.setdefault(cmd.cmd, []).append(cmd)
    assert "ADD" not in by_cmd
    (user,) = by_cmd["USER"]
    assert user.value[0].split(":")[0].isdigit() and not user.value[0].startswith("0")
    assert any("/var/lib/syncd" in v for c in by_cmd["VOLUME"] for v in c.value)
    (health,) = by_cmd["HEALTHCHECK"]
    assert "syncd-entrypoint" in health.original and "healthcheck" in health.original
    runs = " ".join(c.original for c in by_cmd["RUN"])
    assert "-r /tmp/requirements.lock" in runs and "--no-cache-dir" in runs
    assert "rm -rf /var/lib/apt/lists/*" in runs
    assert "! -name gmail.v1.json -delete" in runs  # the one API description syncd reads
    env = " ".join(c.original for c in by_cmd["ENV"])
    assert not re.search(r"(PASSWORD|TOKEN|SECRET|KEY)\w*=", env)
    assert by_cmd["STOPSIGNAL"][0].value == ("SIGTERM",)


def test_the_lock_pins_what_the_tests_ran_on() -> None:
    """Every runtime dependency (and the postgres extra) is pinned in the image's lock, at
    the version this test run imports."""
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        name, sep, pinned = line.partition("==")
        assert sep, f"{LOCK.name}: {line!r} is not pinned with =="
        pins[name.lower().replace("_", "-")] = pinned
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    for spec in wanted:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} missing from {LOCK.name}"
        assert req.specifier.contains(pins[name]), (name, pins[name], str(req.specifier))
        assert pins[name] == version(req.name), (
            f"{name}: lock {pins[name]}, tested {version(req.name)}"
        )


def _entrypoint(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
        **kw,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The image's environment, with this test's venv on PATH in place of the image's."""
    bin_dir = str(Path(sys.executable).parent)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCD_", "JOURNAL"))}
    return {
        **base,
        "PATH": f"{bin_dir}:{base.get('PATH', '')}",
        "TMPDIR": str(tmp_path),
        "STATE_DIRECTORY": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_the_entrypoint_runs_syncd_with_the_given_arguments(env: dict[str, str]) -> None:
    """`docker run syncd --version` reaches syncd itself."""
    done = _entrypoint("--version", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("syncd ")


@pytest.fixture
def sandbox_config(tmp_path: Path) -> Iterator[Path]:
    """A config as the compose sandbox service writes it (here the file-backed fake)."""
    with sandbox(tmp_path / "box", seed="demo", parts=[]) as box:
        path = tmp_path / "shared" / "sandbox.toml"
        path.parent.mkdir()
        path.write_text(to_toml(box.config), encoding="utf-8")
        yield path


def test_the_entrypoint_derives_an_instance_config_from_the_sandbox(
    env: dict[str, str], sandbox_config: Path, tmp_path: Path
) -> None:
    """Each compose instance runs on the sandbox's shards with its own state URL and
    metrics port; the derived config passes check-config and is owner-only."""
    env |= {
        "SYNCD_SANDBOX_CONFIG": str(sandbox_config),
        "SYNCD_STATE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "SYNCD_METRICS_LISTEN": "127.0.0.1:9999",
        "SYNCD_POLL_INTERVAL_S": "30",
    }
    done = _entrypoint("check-config", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    derived = tmp_path / "syncd-instance.toml"
    config = tomllib.loads(derived.read_text(encoding="utf-8"))
    assert config["state"] == {"url": f"sqlite:///{tmp_path / 'shared.db'}"}
    assert config["metrics"] == {"listen": "127.0.0.1:9999"}
    assert config["shards"] == tomllib.loads(sandbox_config.read_text())["shards"]
    assert derived.stat().st_mode & 0o077 == 0


def test_the_entrypoint_says_when_the_sandbox_config_never_appears(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A missing sandbox service ends in a clear message and the config-error exit code."""
    env |= {"SYNCD_SANDBOX_CONFIG": str(tmp_path / "nope.toml"), "SYNCD_WAIT_S": "0"}
    done = _entrypoint("run", env=env)
    assert done.returncode == 78
    assert "did not appear within 0s" in done.stderr


def test_the_healthcheck_follows_healthz(env: dict[str, str]) -> None:
    """The image's HEALTHCHECK passes while /healthz answers 200 and fails once it is gone."""
    server = HealthServer("127.0.0.1:0", Metrics(), ready_check=lambda: (True, ""))
    server.start()
    host, port = server.address
    env["SYNCD_HEALTH_URL"] = f"http://{host}:{port}/healthz"
    try:
        assert _entrypoint("healthcheck", env=env).returncode == 0
    finally:
        server.stop()
    down = _entrypoint("healthcheck", env=env)
    assert down.returncode == 1 and "healthcheck: URLError" in down.stderr


@pytest.mark.slow
def test_sigterm_through_the_entrypoint_drains_and_exits_0(
    env: dict[str, str], sandbox_config: Path, tmp_path: Path
) -> None:
    """`docker stop` sends SIGTERM to the entry point, which exec'd syncd: the daemon stops
    after its cycle and exits 0."""
    env |= {
        "SYNCD_SANDBOX_CONFIG": str(sandbox_config),
        "SYNCD_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
    }
    proc = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=WAIT_S)
            assert line is not None, "syncd exited before its first cycle"
            if json.loads(line).get("event") == "cycle.summary":
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    events = [json.loads(line)["event"] for line in iter(lines.get, None)]
    assert "daemon.stopped" in events


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return data


def test_compose_runs_two_instances_on_one_postgres_beside_the_sandbox() -> None:
    """Two syncd services share the PostgreSQL state and the sandbox's shards, each with its
    own metrics port published; passwords come only from secret files."""
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "sandbox", "syncd-a", "syncd-b"}
    a, b = services["syncd-a"], services["syncd-b"]
    assert a["environment"]["SYNCD_STATE_URL"] == b["environment"]["SYNCD_STATE_URL"]
    assert "@postgres:5432/" in a["environment"]["SYNCD_STATE_URL"]
    ports = {s["environment"]["SYNCD_METRICS_LISTEN"].rsplit(":", 1)[1] for s in (a, b)}
    published = {p.rsplit(":", 1)[1] for p in services["sandbox"]["ports"]}
    assert len(ports) == 2 and ports == published
    for name in ("sandbox", "syncd-a", "syncd-b"):
        assert services[name]["read_only"] is True, name
    for name, service in services.items():
        env = service.get("environment", {})
        for key, value in env.items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key):
                assert key.endswith("_FILE") or str(value).startswith(("credential:", "file:")), (
                    name,
                    key,
                )
    assert all("file" in s for s in compose["secrets"].values())
    assert "secrets" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def _compose_cli() -> list[str] | None:
    """`docker compose` (the plugin), else the standalone `docker-compose`, else None."""
    docker = shutil.which("docker")
    if (
        docker
        and not subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    """Where a compose CLI is installed, it parses the file as the README runs it."""
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no compose CLI is installed here")
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / "secrets").mkdir()  # `config` checks that the secret files exist
    for name in ("pg_password", "syncd_pg_password"):
        (tmp_path / "secrets" / name).write_text("x\n")
    done = subprocess.run(
        [*cli, "-f", str(tmp_path / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
