"""The end-to-end benchmark still runs the real `syncd once` against the Salesforce fake:
a small backfill, every figure it promises printed, the org's limits kept. (Its speed is
measured by running it, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_benchmark_prints_its_figures_within_the_limits() -> None:
    args = ["--records", "300", "--latency-ms", "0", "--crm", "salesforce", "--json"]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["prospects"] == figures["records"] == 300
    assert figures["decisions"] == {"nurture": 300}
    assert figures["records_per_s"] > 0 and figures["engine_ratio"] > 0
    assert figures["peak_rss_mb"] > 0 and figures["state_bytes_per_prospect"] > 0
    assert figures["review"]["live_plans"] == 300
    assert {"read", "materialise", "dispatch"} <= set(figures["phases_s"])
    assert figures["limits"]["seconds_over"] == [] and not figures["limits"]["refused"]
    assert figures["connector_alone"]["records"] == 300
