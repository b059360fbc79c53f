"""The `syncd` command line.

Exit codes: 0 success, 1 failure, 64 usage error, 78 configuration error (systemd's
RestartPreventExitStatus=78 keeps a broken config from restart-looping).
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import structlog

from syncd import __version__, report
from syncd.config import ConfigInvalid, LoadedConfig, load_config, parse_config, resolve_path
from syncd.connectors import ConfigError, FatalSyncError, load_plugin
from syncd.logging import configure
from syncd.runtime import open_store, runtime, summary_json

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 64, 78
log = structlog.get_logger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"syncd: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="syncd", description="Follow-up engine for sales rejections.")
    python = platform.python_version()
    parser.add_argument(
        "--version", action="version", version=f"syncd {__version__} (Python {python})"
    )
    parser.add_argument(
        "--config", help="config file (default: $SYNCD_CONFIG, else /etc/syncd/syncd.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("run", help="run the daemon (under systemd: Type=notify)")
    for name, text in (
        ("once", "one cycle of every shard, then exit"),
        ("plan", "dry run: decide and print every write; nothing is written"),
        ("status", "per shard: cursor, last cycle, outbox, held for review, dead letters"),
    ):
        sub.add_parser(name, help=text).add_argument("--json", action="store_true")
    replay = sub.add_parser("replay", help="re-queue dead-lettered writes")
    replay.add_argument("keys", nargs="*", help="outbox keys (default: all dead letters)")
    sub.add_parser("check-config", help="validate the config; exit 0 or 78 listing problems")
    classify = sub.add_parser(
        "classify", help="classify prospect replies (JSON lines, .eml or mbox) from FILE or stdin"
    )
    classify.add_argument("file", nargs="?")
    sandbox = sub.add_parser("sandbox", help="run the seeded local fakes of every connector")
    sandbox.add_argument("--port-base", type=int, default=18080)
    sandbox.add_argument("--seed", choices=("demo", "empty"), default="demo")
    sandbox.add_argument("--write-config", metavar="PATH")
    demo = sub.add_parser("demo", help="one real cycle against the seeded sandbox, summarised")
    demo.add_argument("--json", action="store_true")
    doctor = sub.add_parser(
        "doctor",
        help="check what a shard's reads and writes need (auth, key field, picklist values, "
        "owners); list each check with ok/FAIL and the fix; exit 1 when any fails",
    )
    doctor.add_argument(
        "shard", nargs="?", help="shard name or connector type to check (default: every shard)"
    )
    doctor.add_argument(
        "--fix",
        action="store_true",
        help="create the idempotency key field/property when it is missing (the only write)",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object with every check")
    auth = sub.add_parser("auth", help="set up credentials interactively (e.g. auth gmail)")
    auth.add_argument("shard", help="shard name (or connector type)")
    auth.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _load(args: argparse.Namespace, *, check_secrets: bool = False) -> LoadedConfig:
    return load_config(resolve_path(args.config), check_secrets=check_secrets)


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """`--json`: one summary object on one line; otherwise the readable report."""
    print(json.dumps(data) if args.json else text)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = resolve_path(args.config)
    load_config(path, check_secrets=True)
    print(f"{path}: OK")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from syncd.daemon import Daemon

    path = resolve_path(args.config)
    config = load_config(path, check_secrets=True)
    return Daemon(path, config).run()


def cmd_once(args: argparse.Namespace) -> int:
    with runtime(_load(args)) as rt:
        summaries = rt.once()
        incomplete = dict(rt.incomplete)
    data = summary_json(summaries) | {"setup_incomplete": incomplete}
    _emit(args, data, report.cycles(summaries, "syncd once") + _setup_text(incomplete, {}))
    dead = sum(s.writes.get("dead", 0) for s in summaries.values())
    return EXIT_FAILURE if dead or incomplete else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    with runtime(_load(args), dry_run=True) as rt:
        summaries = {name: rt.engine.cycle(name) for name in rt.connectors}
        incomplete, notices = dict(rt.incomplete), dict(rt.notices)
    data = report.plan_json(summaries) | {"setup_incomplete": incomplete, "setup_notices": notices}
    _emit(args, data, report.plan(summaries) + _setup_text(incomplete, notices))
    return EXIT_OK


def _setup_text(incomplete: dict[str, str], notices: dict[str, list[str]]) -> str:
    """What the remote set-up lacks, after the report, so it is the last thing read."""
    lines = [
        f"\n{shard}: NOT SET UP, no task can be written: {why}" for shard, why in incomplete.items()
    ]
    lines += [f"\n{shard}: note: {n}" for shard, ns in notices.items() for n in ns]
    return "".join(lines)


def cmd_doctor(args: argparse.Namespace) -> int:
    from syncd import doctor

    return doctor.run(_load(args), args.shard, fix=args.fix, as_json=args.json, out=sys.stdout)


def cmd_status(args: argparse.Namespace) -> int:
    config = _load(args)
    store = open_store(config)
    try:
        rows: dict[str, dict[str, Any]] = {}
        for name in config.shards:
            cursor = store.cursor(name)
            shard = store.shard_row(name) or {}
            held = store.held_for_review(name)
            rows[name] = {
                "cursor": cursor.value if cursor else None,
                "cursor_lag_s": _lag(cursor.value) if cursor else None,
                "last_cycle_at": shard.get("last_cycle_at"),
                "last_success_at": shard.get("last_success_at"),
                "owner": shard.get("owner"),
                "outbox": store.outbox_counts(name),
                "next_due": store.next_due(name),
                "contactless": store.contactless_counts(name),
                "held_for_review": {"count": len(held), "prospects": held},
            }
        dead = store.dead_letters()
    finally:
        store.close()
    data = {"shards": rows, "dead_letters": dead}
    text = (
        report.status(rows)
        + f"\ndead letters: {len(dead)}"
        + "".join(f"\n  {d['kind']} {d['ref']} ({d['shard']}): {d['error']}" for d in dead)
    )
    _emit(args, data, text)
    return EXIT_OK


def _lag(value: str) -> float | None:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # not a timestamp (e.g. a mailbox history id)
    return (datetime.now(UTC) - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds()


def cmd_replay(args: argparse.Namespace) -> int:
    store = open_store(_load(args))
    try:
        count = store.replay(args.keys or None)
    finally:
        store.close()
    print(f"re-queued {count} write(s); they go out on the next cycle")
    return EXIT_OK


def cmd_classify(args: argparse.Namespace) -> int:
    from syncd.replies.cli import run_classify

    path = resolve_path(args.config)
    replies = load_config(path).core.replies if path.exists() else None
    if replies is None:
        from syncd.replies.config import RepliesConfig

        replies = RepliesConfig()
    result: int = run_classify(args.file, replies, sys.stdout)
    return result


def cmd_sandbox(args: argparse.Namespace) -> int:
    from syncd.sandbox import serve

    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    config = Path(args.write_config) if args.write_config else None
    serve(seed=args.seed, port_base=args.port_base, write_config=config, stop=stop)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from syncd.sandbox import sandbox

    with (
        tempfile.TemporaryDirectory(prefix="syncd-demo-") as tmp,
        sandbox(Path(tmp), seed="demo") as box,
    ):
        config = parse_config(box.config, Path(tmp) / "demo.toml")
        with runtime(config) as rt:
            summaries = rt.once()
    title = (
        "syncd demo: one cycle against the seeded sandbox ("
        + ", ".join(f"{s.name} at {s.base_url}" for s in box.shards)
        + ")"
    )
    _emit(args, summary_json(summaries), report.cycles(summaries, title))
    return EXIT_OK


def _plugin_command(hook: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        config = _load(args)
        shard = config.shards.get(args.shard) or next(
            (s for s in config.shards.values() if s.core.type == args.shard), None
        )
        if shard is None:
            raise ConfigError(f"no shard named or typed {args.shard!r} in {config.path}")
        plugin = load_plugin(shard.core.type)
        func = getattr(plugin, hook, None)
        if func is None:
            print(f"connector {shard.core.type!r} has no `{hook}` command", file=sys.stderr)
            return EXIT_USAGE
        return int(func(shard.settings, args.rest))

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "once": cmd_once,
    "plan": cmd_plan,
    "status": cmd_status,
    "replay": cmd_replay,
    "check-config": cmd_check_config,
    "classify": cmd_classify,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
    "doctor": cmd_doctor,
    "auth": _plugin_command("auth"),
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `run` logs to stdout for journald; every other command keeps stdout for its output.
    stream = sys.stdout if args.command == "run" else sys.stderr
    quiet = args.command in ("demo", "sandbox", "classify")
    configure(level="warning" if quiet else "info", fmt="auto", stream=stream)
    try:
        if not quiet:
            try:  # the file's own logging settings, when it is readable
                logging_cfg = load_config(resolve_path(args.config)).core.logging
                configure(level=logging_cfg.level, fmt=logging_cfg.format, stream=stream)
            except (ConfigError, OSError):
                pass  # reported properly by the command itself
        return COMMANDS[args.command](args)
    except ConfigInvalid as exc:
        print(f"syncd: configuration error in {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"syncd: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FatalSyncError as exc:
        print(f"syncd: stopped: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
