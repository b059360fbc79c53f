"""The command line shared by the connector benchmarks: records, latency, --json, one report."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from typing import Any

import structlog


def connector_main(
    description: str,
    run: Callable[[int, float], dict[str, Any]],
    default_records: int,
    argv: list[str] | None = None,
) -> None:
    """Parse `--records/--latency-ms/--json`, run, print the figures (one JSON object or a line)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", type=int, default=default_records)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = run(args.records, args.latency_ms)
    if args.json:
        print(json.dumps(figures))
        return
    ratio = figures["calls"] / figures["min_calls"] if figures["min_calls"] else 0.0
    print(
        f"{figures['records']} records -> {figures['tasks']} tasks in {figures['calls']} calls "
        f"(minimum {figures['min_calls']}, x{ratio:.3f}); {figures['records_per_s']} records/s; "
        f"peak RSS {figures['peak_rss_mb']} MB"
    )
    if "unlimited" in figures:
        limits = figures["limits"]
        print(
            f"  at the org's limits {limits['enforced']}: busiest second {limits['busiest_1s']}, "
            f"refused {limits['refused']}; without limits: "
            f"{figures['unlimited']['records_per_s']} records/s in "
            f"{figures['unlimited']['calls']} calls"
        )
