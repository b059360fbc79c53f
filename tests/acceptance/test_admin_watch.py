"""What an admin watches, checked on a real `syncd run` against the sandbox's fakes: every
shard's events carry `shard`, every jq recipe of the admin guide works on the output, and
the guide's list of metric series is exactly what /metrics serves."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from syncd.sandbox import sandbox, to_toml

pytestmark = pytest.mark.slow
GUIDE = Path(__file__).parents[2] / "docs" / "admin-guide.md"
WAIT_S = 240.0
# events of a shard's work: each must say which shard it belongs to
SHARD_EVENTS = re.compile(
    r"^(cycle|decision|write|record|gmail|hubspot|salesforce|retry|ratelimit|backfill|quota)\."
)


@dataclass
class DaemonRun:
    lines: list[str]
    scrape: str
    landing: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pump(stream: object, out: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line)
    out.put(None)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonRun]:
    work = tmp_path_factory.mktemp("watch")
    with sandbox(work / "box", seed="demo") as box:
        config = json.loads(json.dumps(box.config))
        port = _free_port()
        config["metrics"] = {"listen": f"127.0.0.1:{port}"}
        config["daemon"] = {"poll_interval_s": 3600}
        path = work / "syncd.toml"
        path.write_text(to_toml(config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncd.cli", "--config", str(path), "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        seen: list[str] = []
        pending = set(config["shards"])
        try:
            while pending:  # the first cycle of every shard runs right after start-up
                line = lines.get(timeout=WAIT_S)
                assert line is not None, "the daemon exited early:\n" + "".join(seen[-20:])
                seen.append(line)
                event = json.loads(line)
                if event.get("event") == "cycle.summary":
                    pending.discard(event.get("shard"))
            base = f"http://127.0.0.1:{port}"
            scrape = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()  # noqa: S310 (http to 127.0.0.1)
            landing = urllib.request.urlopen(f"{base}/", timeout=10).read().decode()  # noqa: S310 (http to 127.0.0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=WAIT_S) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        while (line := lines.get(timeout=WAIT_S)) is not None:
            seen.append(line)
        yield DaemonRun(seen, scrape, landing)


def test_every_event_of_a_shards_work_carries_the_shard(daemon: DaemonRun) -> None:
    """Connector events (logins, pages, batches, retries) name the shard like the engine's."""
    events = [json.loads(line) for line in daemon.lines]
    work = [e for e in events if SHARD_EVENTS.match(e["event"])]
    assert {e["event"].split(".")[0] for e in work} >= {"cycle", "decision", "write"}
    assert [e["event"] for e in work if not e.get("shard")] == []


def _recipes() -> list[str]:
    """Every jq command of the guide's shell blocks (continuation lines joined), each after
    the block's variable assignments (`P='…'`) it uses."""
    text = GUIDE.read_text(encoding="utf-8")
    recipes: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        assignments: list[str] = []
        pending = ""
        for line in block.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            if pending.count("'") % 2:
                continue  # a quoted jq program goes on
            if re.match(r"^[A-Z]+=", pending):
                assignments.append(pending)
            elif re.search(r"\|\s*jq ", pending):
                recipes.append("\n".join([*assignments, pending]))
            pending = ""
    return recipes


def _as_file_reader(recipe: str, log: Path) -> str:
    """`journalctl -u syncd -o cat [--since …] [-f]` becomes `cat LOG` (the same bare JSON
    lines `-o cat` prints)."""
    return re.sub(
        r"journalctl -u syncd -o cat(?: --since \S+| --until \S+| -f)*", f"cat {log}", recipe
    )


def test_every_jq_recipe_of_the_guide_runs_on_real_daemon_output(
    daemon: DaemonRun, tmp_path: Path
) -> None:
    """Each recipe exits 0 without a jq error; the cycle, prospect, decision and shard
    recipes find lines in the output of one real run."""
    if shutil.which("jq") is None:
        if os.environ.get("SYNCD_REQUIRE_JQ") == "1":
            pytest.fail("jq is required here: apt-get install jq")
        pytest.skip("jq is not installed (apt-get install jq)")
    log = tmp_path / "journal.txt"
    log.write_text("".join(daemon.lines), encoding="utf-8")
    events = [json.loads(line) for line in daemon.lines]
    prospect = next(e["prospect"] for e in events if e["event"] == "decision.made")
    shard = next(e["shard"] for e in events if e["event"] == "cycle.summary")
    recipes = _recipes()
    assert len(recipes) >= 8
    outputs: dict[str, str] = {}
    for recipe in recipes:
        script = _as_file_reader(recipe, log)
        script = re.sub(r"^P='[^']*'", f"P='{prospect}'", script, flags=re.M)
        script = re.sub(r"^S='[^']*'", f"S='{shard}'", script, flags=re.M)
        run = subprocess.run(  # the pipeline's status is jq's (or sort/uniq's after it)
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and run.stderr == "", f"{recipe}\n{run.stderr}"
        outputs[recipe] = run.stdout
    found = {r: o for r, o in outputs.items() if o.strip()}
    for needle in ('"cycle.summary"', "$p", '"decision.made"', "$s"):
        assert any(needle in r for r in found), f"no recipe with {needle} found anything"


def _documented_series() -> set[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Metrics and health", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)`", section, flags=re.M))


def test_the_guide_lists_exactly_the_series_metrics_serves(daemon: DaemonRun) -> None:
    """Every series in a real scrape is documented, and every documented one is served."""
    served = set()
    for family in text_string_to_metric_families(daemon.scrape):
        for sample in family.samples:
            served.add(sample.name.removesuffix("_bucket").removesuffix("_count"))
    served = {re.sub(r"_(sum)$", "", name) for name in served}
    assert not any(name.endswith("_created") for name in served)
    assert _documented_series() == served


def test_vendor_responses_are_counted_by_shard_vendor_and_class(daemon: DaemonRun) -> None:
    """Each shard's vendor calls show up in syncd_http_responses_total, 2xx at least."""
    counted = {}
    for family in text_string_to_metric_families(daemon.scrape):
        for sample in family.samples:
            if sample.name == "syncd_http_responses_total":
                labels = sample.labels
                counted[(labels["shard"], labels["vendor"], labels["status_class"])] = sample.value
    assert counted[("salesforce", "salesforce", "2xx")] > 0
    assert counted[("hubspot", "hubspot", "2xx")] > 0
    assert counted[("gmail", "gmail", "2xx")] > 0


def test_the_listener_has_a_landing_page(daemon: DaemonRun) -> None:
    """`/` names syncd and links the endpoints, for an admin with a browser."""
    assert "syncd" in daemon.landing and 'href="/metrics"' in daemon.landing
