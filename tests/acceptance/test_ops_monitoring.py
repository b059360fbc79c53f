"""The shipped alert rules and dashboard, checked against a real daemon's /metrics scrape:
every expression names only series syncd serves, and promtool evaluates each rule on that
scrape (quiet while healthy, firing when its condition is made true)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.acceptance.test_admin_watch import DaemonRun, daemon

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
RULES = ROOT / "ops" / "prometheus" / "syncd-rules.yaml"
DASHBOARD = ROOT / "ops" / "grafana" / "syncd.json"
GUIDE = ROOT / "docs" / "admin-guide.md"
__all__ = ["daemon"]  # the module-scoped daemon run, shared with the admin-watch tests

# PromQL words that are not series names.
PROMQL_WORDS = {
    "by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "sum", "min", "max", "avg", "count", "topk", "bottomk", "rate",
    "irate", "increase", "delta", "time", "absent", "clamp_min", "clamp_max", "label_replace",
    "histogram_quantile", "avg_over_time", "max_over_time", "min_over_time", "changes",
    "resets", "vector", "scalar", "timestamp", "e", "inf", "nan",
}  # fmt: skip
# Series Prometheus itself adds to every target (not served by syncd).
SCRAPE_SERIES = {"up"}
# Grafana's dashboard variables, replaced before the names are read.
GRAFANA_VARS = re.compile(r"\$(?:__rate_interval|__interval|__range|\{?\w+\}?)")


def _served(scrape: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(scrape) for s in f.samples}


def _series_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers outside label matchers, grouping
    lists, strings and durations, minus PromQL's own words."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    words = set(re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", text))
    return {w for w in words if w.lower() not in PROMQL_WORDS}


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _guide_anchors(section: str) -> set[str]:
    """GitHub-style anchors of the headings under the guide's `## section`."""
    text = GUIDE.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^#{3,4} (.+)$", body, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_every_alert_is_documented_with_a_runbook_in_the_guide() -> None:
    """Each alert tells the on-call person what broke and where the guide says what to do."""
    anchors = _guide_anchors("When an alert fires")
    rules = _rules()
    assert {r["alert"] for r in rules} >= {
        "SyncdDown",
        "SyncdShardFailing",
        "SyncdShardNotReading",
        "SyncdDeadLettersGrowing",
        "SyncdWritesInDoubt",
        "SyncdRateLimitThrottling",
        "SyncdShardUnowned",
        "SyncdLeaseFlapping",
    }
    for rule in rules:
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], rule["alert"]
        page, _, anchor = notes["runbook"].partition("#")
        assert page == "docs/admin-guide.md" and anchor in anchors, rule["alert"]


def test_alert_expressions_name_only_series_syncd_serves(daemon: DaemonRun) -> None:
    """An alert on a series syncd never exports would stay silent for ever."""
    served = _served(daemon.scrape) | SCRAPE_SERIES
    rules = _rules()
    assert rules, "the alert rules file holds no rule"
    for rule in rules:
        names = _series_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= served, (rule["alert"], names - served)


def test_dashboard_queries_name_only_series_syncd_serves(daemon: DaemonRun) -> None:
    """Every panel of the dashboard draws from series that a running daemon serves."""
    served = _served(daemon.scrape) | SCRAPE_SERIES
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = [p for p in board["panels"] if p.get("type") != "row"]
    assert len(panels) >= 7
    for panel in panels:
        exprs = [t["expr"] for t in panel["targets"]]
        assert exprs, panel["title"]
        for expr in exprs:
            names = _series_names(GRAFANA_VARS.sub("5m", expr))
            assert names and names <= served, (panel["title"], names - served)


# ---- evaluation with promtool -------------------------------------------------------------

EVAL_MIN = 60  # every test series runs for an hour at one sample a minute


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("SYNCD_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def _series(scrape: str) -> dict[str, float]:
    """The scrape as promtool input series (`name{labels}` -> value), as one instance
    scraped under `job="syncd"`; timestamps moved onto the test's clock (the scrape's
    newest cycle at the end of the hour)."""
    samples = [
        (s.name, dict(s.labels), s.value)
        for f in text_string_to_metric_families(scrape)
        for s in f.samples
        if s.name.startswith("syncd_")
    ]
    stamps = [v for n, _, v in samples if n == "syncd_last_successful_cycle_timestamp_seconds"]
    shift = EVAL_MIN * 60 - max(stamps)
    out: dict[str, float] = {}
    for name, labels, value in samples:
        if name.endswith("_timestamp_seconds"):
            value += shift
        out[_selector(name, {**labels, "job": "syncd", "instance": "syncd-a"})] = value
    out[_selector("up", {"job": "syncd", "instance": "syncd-a"})] = 1
    return out


def _selector(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _shard(selector: str) -> list[str]:
    return re.findall(r'shard="([^"]+)"', selector)


def _steady(value: float) -> str:
    return f"{value:g}+0x{EVAL_MIN}"


def _render(text: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)


def _scenarios(base: dict[str, float], shard: str) -> dict[str, dict[str, str]]:
    """For each alert, the input series that make it fire for `shard` (or the instance)."""

    def pick(name: str, **labels: str) -> str:
        want = {"shard": shard, **labels}
        hits = [k for k in base if k.startswith(name + "{") and all(
            f"{k2}={json.dumps(v)}" in k for k2, v in want.items()
        )]  # fmt: skip
        assert len(hits) == 1, (name, want, hits)
        return hits[0]

    def override(**changes: str) -> dict[str, str]:
        steady = {k: _steady(v) for k, v in base.items()}
        return {**steady, **changes}

    up = _selector("up", {"job": "syncd", "instance": "syncd-a"})
    return {
        "SyncdDown": override(**{up: f"0x{EVAL_MIN}"}),
        "SyncdShardFailing": override(**{pick("syncd_cycles_total", result="failed"): "0+1x60"}),
        "SyncdShardNotReading": override(
            **{pick("syncd_last_successful_cycle_timestamp_seconds"): f"0x{EVAL_MIN}"}
        ),
        "SyncdDeadLettersGrowing": override(
            **{pick("syncd_writes_total", result="dead"): "0+1x60"}
        ),
        "SyncdWritesInDoubt": override(**{pick("syncd_outbox_items", state="in_doubt"): "3x60"}),
        "SyncdRateLimitThrottling": override(**{_quota(base, shard): f"0.05x{EVAL_MIN}"}),
        "SyncdShardUnowned": override(**{pick("syncd_shard_lease_held"): f"0x{EVAL_MIN}"}),
        "SyncdLeaseFlapping": override(**{pick("syncd_lease_losses_total"): "0+1x60"}),
    }


def _quota(base: dict[str, float], shard: str) -> str:
    """The shard's quota series; a shard whose vendor reports none gets one, as it would."""
    name = "syncd_api_quota_remaining_ratio"
    for key in base:
        if key.startswith(name + "{") and f"shard={json.dumps(shard)}" in key:
            return key
    return _selector(name, {"instance": "syncd-a", "job": "syncd", "shard": shard})


def test_promtool_accepts_the_rules() -> None:
    """The file loads in Prometheus as it is shipped."""
    done = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_rule_is_quiet_on_a_healthy_scrape_and_fires_when_broken(
    daemon: DaemonRun, tmp_path: Path
) -> None:
    """promtool evaluates every rule on the real scrape held for an hour: nothing fires; then,
    per alert, the one series it watches is broken for one shard and exactly that alert fires."""
    promtool = _promtool()
    base = _series(daemon.scrape)
    # a shard that writes (a mailbox's tasks may go out through its CRM shard's outbox)
    writers = {m for k in base if k.startswith("syncd_outbox_items{") for m in _shard(k)}
    shard = sorted(writers)[0]
    rules = {r["alert"]: r for r in _rules()}
    at = f"{EVAL_MIN}m"
    tests: list[dict[str, Any]] = [
        {
            "interval": "1m",
            "input_series": [{"series": k, "values": _steady(v)} for k, v in base.items()],
            "alert_rule_test": [{"eval_time": at, "alertname": a, "exp_alerts": []} for a in rules],
        }
    ]
    for alert, series in _scenarios(base, shard).items():
        rule = rules[alert]
        labels = (
            {"job": "syncd", "instance": "syncd-a"} if alert == "SyncdDown" else {"shard": shard}
        )
        expected = {
            "exp_labels": {**labels, **rule["labels"]},
            "exp_annotations": {k: _render(v, labels) for k, v in rule["annotations"].items()},
        }
        tests.append(
            {
                "interval": "1m",
                "input_series": [{"series": k, "values": v} for k, v in series.items()],
                "alert_rule_test": [
                    {
                        "eval_time": at,
                        "alertname": a,
                        "exp_alerts": [expected] if a == alert else [],
                    }
                    for a in rules
                ],
            }
        )
    shutil.copy(RULES, tmp_path / "syncd-rules.yaml")
    spec = {"rule_files": ["syncd-rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
