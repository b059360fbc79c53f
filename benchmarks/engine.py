"""End to end: the real `syncd once` backfilling from the Salesforce fake, then the HubSpot fake.

    python -m benchmarks.engine --records 20000 --latency-ms 25 [--state sqlite|postgres] [--json]

For each CRM the fake runs in its own process, seeded with N rejections (the same worlds as
benchmarks.salesforce and benchmarks.hubspot). `syncd once` runs as a child process with a
generated config, so its peak RSS is measured alone (wait4). Printed per CRM:
- records/s of the whole cycle (read, decide, persist, materialise, dispatch) and the time of
  each phase (from the cycle summary);
- peak RSS of the syncd process and state bytes per prospect (the SQLite file after a
  checkpoint, or the PostgreSQL tables with their indexes);
- the connector alone on the same fake (its own benchmark, run in another process), so
  `engine_ratio` = end-to-end records/s over connector-alone records/s;
- the daily review of the live plans the backfill left, timed in-process on the same state
  (the store and the policy; the CRM's look-ups are the connector's part).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog

from benchmarks import hubspot as hubspot_bench
from benchmarks import salesforce as salesforce_bench
from syncd.config import load_config
from syncd.engine import CycleSummary, Engine
from syncd.gctuning import tune_for_throughput
from syncd.review import Reviewer
from syncd.store import Store
from syncd.store import schema as t
from syncd_salesforce.sandbox import key_pair, write_secret

PG_ADMIN_URL = os.environ.get("SYNCD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN_ENV = "SYNCD_BENCH_HUBSPOT_TOKEN"  # noqa: S105 - a variable's name, not a secret
# HubSpot's documented burst limit for a private app (Professional / Enterprise: 190 calls a
# 10 seconds; searches 5 a second), which the fake enforces; syncd keeps to rate_share of it.
HUBSPOT_TEN_SECOND_LIMIT = 190
HUBSPOT_SHARE = 0.5
# --profile FILE: run `syncd once` under cProfile, the statistics written to FILE
PROFILE: list[str] = []


@contextmanager
def state_url(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh state database: a SQLite file in the work directory, or a new PostgreSQL db."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'state.db'}"
        return
    admin = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    name = f"syncd_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def state_bytes(url: str) -> int:
    """What the state takes on disk: the SQLite file after a WAL checkpoint, or the PostgreSQL
    tables with their indexes and TOAST."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")  # VACUUM needs no transaction
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
                path = Path(url.split("///", 1)[1])
                return path.stat().st_size
            conn.execute(sa.text("VACUUM ANALYZE"))
            return int(
                conn.execute(
                    sa.text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                    )
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def state_objects(url: str) -> dict[str, int]:
    """Bytes per table and index, largest first (SQLite's dbstat where compiled in; the
    PostgreSQL relations with their TOAST), so the total can be told apart."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                try:
                    rows = conn.execute(
                        sa.text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
                    ).all()
                except sa.exc.OperationalError:  # built without SQLITE_ENABLE_DBSTAT_VTAB
                    return {}
            else:
                rows = conn.execute(
                    sa.text(
                        "SELECT c.relname, pg_total_relation_size(c.oid) - CASE c.relkind "
                        "WHEN 'r' THEN pg_indexes_size(c.oid) ELSE 0 END FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
                    )
                ).all()
    finally:
        engine.dispose()
    sizes = {str(name): int(size) for name, size in rows if size}
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def run_once(config: Path, env: dict[str, str]) -> tuple[dict[str, Any], float, float, float]:
    """`syncd once --json` as a child process: (summary, wall seconds, peak RSS in MB, CPU
    seconds it used: on a shared machine the wall time also counts other processes)."""
    errors = config.with_suffix(".stderr")
    started = time.perf_counter()
    with errors.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                *PROFILE,
                "-m",
                "syncd.cli",
                "--config",
                str(config),
                "once",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"syncd once exited {proc.returncode}: {errors.read_text()[-2000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    return summary, wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def connector_alone(module: str, records: int, latency_ms: float) -> dict[str, Any]:
    command = [sys.executable, "-m", module, "--json", "--records", str(records)]
    out = subprocess.run(
        [*command, "--latency-ms", str(latency_ms)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def review_time(config_path: Path, env: dict[str, str], shard: str) -> dict[str, Any]:
    """The next day's review of every live plan in the state, timed in-process."""
    os.environ.update(env)
    config = load_config(config_path)
    store = Store.open(config.core.state.url)
    with store.engine.connect() as conn:
        live = int(
            conn.execute(sa.select(sa.func.count()).where(t.plans.c.status == "live")).scalar() or 0
        )
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    engine = Engine(config, store, {}, clock=lambda: tomorrow)
    epoch = store.acquire_shard(shard, "bench-review", 600.0) or 0
    summary = CycleSummary(shard)
    tune_for_throughput()  # as in the daemon, where the review runs
    started = time.perf_counter()
    Reviewer(engine, shard, epoch, max_batches=10**9).run(summary)
    elapsed = time.perf_counter() - started
    store.close()
    return {
        "live_plans": live,
        "review_s": round(elapsed, 2),
        "plans_per_s": round(live / elapsed, 1) if elapsed else 0.0,
        "revised": dict(summary.reviews),
    }


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def write_config(path: Path, url: str, shard: str, section: dict[str, Any]) -> None:
    lines = [
        "[state]",
        f"url = {_toml(url)}",
        "[logging]",
        'level = "warning"',
        'format = "json"',
        "[engine]",
        "lag_s = 0",
        "dispatch_batches_per_cycle = 10000",
        f"[shards.{shard}]",
        *(f"{k} = {_toml(v)}" for k, v in section.items()),
    ]
    path.write_text("\n".join(lines) + "\n")


def _salesforce(workdir: Path, records: int, latency_ms: float) -> tuple[Any, Any, dict[str, Any]]:
    private, public = key_pair()
    key_file = workdir / "jwt.key"
    write_secret(key_file, private)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(
        target=salesforce_bench.serve,
        args=(child, records, latency_ms / 1000, public),
        daemon=True,
    )
    process.start()
    port = parent.recv()
    section = {
        "type": "salesforce",
        "auth": "jwt",
        "consumer_key": salesforce_bench.CONSUMER_KEY,
        "username": salesforce_bench.USERNAME,
        "private_key": f"file:{key_file}",
        "base_url": f"http://127.0.0.1:{port}",
        "lead_statuses": {"Unqualified": "other"},
    }
    return process, parent, section


def _hubspot(workdir: Path, records: int, latency_ms: float) -> tuple[Any, Any, dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(
        target=hubspot_bench._serve,
        args=(child, records, latency_ms / 1000, HUBSPOT_TEN_SECOND_LIMIT),
        daemon=True,
    )
    process.start()
    base_url, token = parent.recv()
    os.environ[TOKEN_ENV] = token
    section = {
        "type": "hubspot",
        "access_token": f"env:{TOKEN_ENV}",
        "base_url": base_url,
    }
    return process, parent, section


CRMS: dict[str, tuple[Callable[[Path, int, float], tuple[Any, Any, dict[str, Any]]], str]] = {
    "salesforce": (_salesforce, "benchmarks.salesforce"),
    "hubspot": (_hubspot, "benchmarks.hubspot"),
}


def _driver() -> str:
    import psycopg

    return f"psycopg ({psycopg.pq.__impl__})"


def run_crm(crm: str, records: int, latency_ms: float, state: str) -> dict[str, Any]:
    start, module = CRMS[crm]
    limits: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix=f"syncd-e2e-{crm}-"))
    with state_url(state, workdir) as url:
        process, pipe, section = start(workdir, records, latency_ms)
        try:
            config = workdir / "syncd.toml"
            write_config(config, url, crm, section)
            # the state directory (bulk spills on PostgreSQL) is the run's own, removed after it
            env = {**os.environ, "SYNCD_CONFIG": str(config), "STATE_DIRECTORY": str(workdir)}
            summary, wall, rss, cpu = run_once(config, env)
            if crm == "hubspot":
                pipe.send("stats")
                calls, refused, busiest_10s, busiest_search_1s = pipe.recv()
                pipe.send("count")
                _, budgeted = pipe.recv()  # searches have their own limit, not the 10-s one
                limits = {
                    "api_calls": calls,
                    "budgeted_calls": budgeted,
                    "refused_429": refused,
                    "busiest_10s_calls": busiest_10s,
                    "budget_10s": HUBSPOT_TEN_SECOND_LIMIT,
                    "share": HUBSPOT_SHARE,
                    "calls_per_10s": round(budgeted / wall * 10, 1),
                    "of_share": round(
                        budgeted / wall * 10 / (HUBSPOT_TEN_SECOND_LIMIT * HUBSPOT_SHARE), 3
                    ),
                    "busiest_search_1s": busiest_search_1s,
                }
                assert busiest_10s <= HUBSPOT_TEN_SECOND_LIMIT and busiest_search_1s <= 5, limits
            else:  # Salesforce's daily requests, long-running requests, daily query jobs
                pipe.send("limits")
                limits = pipe.recv()
                assert not limits["seconds_over"], limits
        finally:
            pipe.send("stop")
            process.join(timeout=30)
        cycle = summary.get("shards", summary).get(crm, summary)
        with sa.create_engine(url).connect() as conn:
            prospects = int(
                conn.execute(sa.select(sa.func.count()).select_from(t.prospects)).scalar() or 0
            )
        size = state_bytes(url)
        objects = state_objects(url)
        review = review_time(config, env, crm)
    shutil.rmtree(workdir, ignore_errors=True)  # the state, spills and key of this run
    alone = connector_alone(module, records, latency_ms)
    rate = records / wall if wall else 0.0
    return {
        "crm": crm,
        "records": records,
        "state": state,
        # psycopg's implementation: "python" (the `postgres` extra on a system libpq without
        # the C extension) costs about twice the CPU on the store's path of "c" / "binary"
        "driver": _driver() if state == "postgres" else "sqlite3",
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "records_per_s": round(rate, 1),
        "peak_rss_mb": round(rss, 1),
        "prospects": prospects,
        "state_bytes_per_prospect": round(size / prospects) if prospects else 0,
        "state_bytes_per_prospect_by_object": {
            name: round(b / prospects)
            for name, b in objects.items()
            if prospects and b >= prospects
        },
        "phases_s": cycle.get("durations_s", {}),
        "decisions": cycle.get("decisions", {}),
        "writes": cycle.get("writes", {}),
        "review": review,
        "limits": limits,
        "connector_alone": alone,
        "engine_ratio": round(rate / alone["records_per_s"], 3) if alone["records_per_s"] else 0,
    }


def main(argv: list[str] | None = None) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--state", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--crm", choices=(*CRMS, "all"), default="all")
    parser.add_argument("--json", action="store_true", help="print one JSON object per CRM")
    parser.add_argument("--profile", metavar="FILE", help="cProfile `syncd once` into FILE")
    args = parser.parse_args(argv)
    if args.profile:
        PROFILE[:] = ["-m", "cProfile", "-o", args.profile]
    for crm in CRMS if args.crm == "all" else (args.crm,):
        figures = run_crm(crm, args.records, args.latency_ms, args.state)
        if args.json:
            print(json.dumps(figures), flush=True)
            continue
        alone = figures["connector_alone"]
        review = figures["review"]
        print(
            f"{crm} [{args.state}] {figures['records']} records in {figures['wall_s']} s: "
            f"{figures['records_per_s']} records/s end to end vs {alone['records_per_s']} "
            f"connector alone (x{figures['engine_ratio']}); peak RSS {figures['peak_rss_mb']} MB "
            f"(connector alone {alone['peak_rss_mb']} MB); "
            f"{figures['state_bytes_per_prospect']} state bytes/prospect; "
            f"phases {figures['phases_s']}; review of {review['live_plans']} live plans "
            f"{review['review_s']} s ({review['plans_per_s']}/s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
