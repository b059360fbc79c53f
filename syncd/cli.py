"""The `syncd` command line.

Exit codes (all listed in the README): 0 success; 1 failure (a dead letter, a failed check, an
unknown key or person, a stopped shard); 2 `auth` could not start (the shard's settings);
64 usage error; 65/66 `classify` found malformed input / could not read it; 78 configuration
error (systemd's RestartPreventExitStatus=78 keeps a broken config from restart-looping).
Global options (--config, --log-level, -q) go before or after the subcommand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import structlog

from syncd import __version__, report
from syncd.clock import clock_for, parse_as_of, system_clock
from syncd.config import ConfigInvalid, LoadedConfig, load_config, parse_config, resolve_path
from syncd.connectors import ConfigError, FatalSyncError, RetriableError, load_plugin
from syncd.gctuning import tune_for_throughput
from syncd.logging import LEVELS, configure
from syncd.runtime import check_store, open_store, runtime, summary_json
from syncd.secrets import SecretError
from syncd.store.database import StoreNotReady

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 64, 78
log = structlog.get_logger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"syncd: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--config, --log-level and -q, on the main parser and again on every subcommand (with
    no default there, so a value given before the subcommand is kept)."""
    default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: $SYNCD_CONFIG, else /etc/syncd/syncd.toml)",
        **default,
    )
    parser.add_argument(
        "--log-level",
        choices=tuple(LEVELS),
        help="log level (default: $SYNCD_LOG_LEVEL, else the config's [logging] level, else info)",
        **default,
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="log warnings and errors only (same as --log-level warning)",
        **default,
    )


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as one JSON object")


def _as_of(text: str) -> date | datetime:
    try:
        return parse_as_of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="syncd", description="Follow-up engine for sales rejections.")
    python = platform.python_version()
    parser.add_argument(
        "--version", action="version", version=f"syncd {__version__} (Python {python})"
    )
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=text, description=text)
        _global_options(child, top=False)
        return child

    command("run", "run the daemon (under systemd: Type=notify)")
    _json_option(command("once", "one cycle of every shard, then exit"), "the cycle summary")
    plan = command(
        "plan",
        "dry run: decide new rejections and list every touch a cycle would write; "
        "nothing is written and no state changes",
    )
    plan.add_argument(
        "--as-of",
        type=_as_of,
        metavar="DATE",
        help="preview the cycle of that day (YYYY-MM-DD): what would be written then, "
        "as the state stands now (default: today)",
    )
    _json_option(plan, "the plan")
    _json_option(
        command(
            "status",
            "per shard: last successful read, newest record, last error, lease, outbox, held "
            "for review, next touches; then paused prospects, accounts and shards, and dead "
            "letters",
        ),
        "the status (ISO 8601 times, ages in seconds)",
    )
    report = command(
        "report",
        "re-engaged prospects and pipeline by loss reason, touch, worth tier and owner",
    )
    report.add_argument("--from", dest="since", help="first day, YYYY-MM-DD (default: 90 days ago)")
    report.add_argument("--to", dest="until", help="last day, YYYY-MM-DD (default: today)")
    _json_option(report, "the report")
    explain = command(
        "explain",
        "why syncd did what it did for one person: events, decisions with their rules and "
        "inputs, plans, touches with their outbox state and remote id (reads only)",
    )
    explain.add_argument("person", help="prospect key (crm:contact:ID), e-mail address or CRM id")
    _json_option(explain, "the explanation")
    for verb, what in (
        ("pause", "hold back every touch of a prospect, an account or a shard until resumed"),
        ("resume", "end a pause; the plans held go on from today"),
    ):
        cmd = command(verb, what)
        target = cmd.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "person", nargs="?", help="prospect key, e-mail address or CRM id of one person"
        )
        target.add_argument("--account", metavar="KEY", help="account key (crm:account:ID)")
        target.add_argument("--shard", metavar="NAME", help="shard name from the config")
        if verb == "pause":
            cmd.add_argument("--reason", help="why (kept in the audit; shown by status)")
    replay = command("replay", "re-queue dead-lettered writes")
    replay.add_argument(
        "keys", nargs="*", help="outbox keys from `syncd status` (default: all dead letters)"
    )
    command("check-config", "validate the config; exit 0 or 78 listing problems")
    classify = command(
        "classify",
        "classify prospect replies (JSON lines, .eml or mbox) from FILE or stdin; exit 65 "
        "when some input was malformed, 66 when FILE cannot be read",
    )
    classify.add_argument("file", nargs="?", help="input file (default: stdin)")
    sandbox = command("sandbox", "run the seeded local fakes of every connector")
    sandbox.add_argument(
        "--port-base", type=int, default=18080, help="first port of the fakes (default 18080)"
    )
    sandbox.add_argument(
        "--seed", choices=("demo", "empty"), default="demo", help="seed data (default demo)"
    )
    sandbox.add_argument("--write-config", metavar="PATH", help="write a config for the fakes")
    demo = command("demo", "one real cycle against the seeded sandbox, summarised")
    demo.add_argument(
        "--as-of",
        type=_as_of,
        metavar="DATE",
        help="run the demo cycle as if it were that day (YYYY-MM-DD)",
    )
    _json_option(demo, "the cycle summary")
    doctor = command(
        "doctor",
        "check what a shard's reads and writes need (auth, key field, picklist values, "
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
    _json_option(doctor, "every check")
    auth = command(
        "auth",
        "set up credentials interactively (e.g. auth gmail); exit 2 when the shard's "
        "settings do not allow it",
    )
    auth.add_argument("shard", help="shard name (or connector type)")
    auth.add_argument(
        "rest", nargs=argparse.REMAINDER, help="options of the connector's own auth command"
    )
    return parser


def _load(args: argparse.Namespace, *, check_secrets: bool = False) -> LoadedConfig:
    return load_config(resolve_path(args.config), check_secrets=check_secrets)


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """`--json`: one summary object on one line; otherwise the readable report."""
    print(json.dumps(data) if args.json else text)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = resolve_path(args.config)
    check_store(load_config(path, check_secrets=True))
    print(f"{path}: OK")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from syncd.daemon import Daemon

    path = resolve_path(args.config)
    config = load_config(path, check_secrets=True)
    return Daemon(path, config).run()


def cmd_once(args: argparse.Namespace) -> int:
    with runtime(_load(args)) as rt:
        rt.engine.decision_level = args.decision_level
        summaries = rt.once()
        incomplete = dict(rt.incomplete)
        not_started = dict(rt.start_failed)
    data = summary_json(summaries) | {"setup_incomplete": incomplete, "not_started": not_started}
    _emit(args, data, report.cycles(summaries, "syncd once") + _setup_text(incomplete, {}))
    for shard, why in sorted(not_started.items()):
        print(f"syncd: shard {shard} did not start: {why}", file=sys.stderr)
    dead = sum(s.writes.get("dead", 0) for s in summaries.values())
    return EXIT_FAILURE if dead or incomplete or not_started else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    clock = clock_for(args.as_of)
    with runtime(_load(args), dry_run=True, clock=clock) as rt:
        rt.engine.decision_level = args.decision_level
        summaries = {name: rt.engine.cycle(name) for name in rt.connectors}
        incomplete, notices = dict(rt.incomplete), dict(rt.notices)
    day = clock().date()
    data = report.plan_json(summaries, day) | {
        "setup_incomplete": incomplete,
        "setup_notices": notices,
    }
    _emit(args, data, report.plan(summaries, day) + _setup_text(incomplete, notices))
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
    from syncd import status

    config = _load(args)
    store = open_store(config, read_only=True)
    try:
        data = status.collect(config, store, system_clock)
    finally:
        store.close()
    _emit(args, data, status.render(data))
    return EXIT_OK


def _day(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)


def cmd_report(args: argparse.Namespace) -> int:
    from syncd import outcomes_report

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        until = _day(args.until, today) + timedelta(days=1)
        since = _day(args.since, until - timedelta(days=91))
    except ValueError:
        print("syncd: --from and --to take a date as YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    if since >= until:
        print("syncd: --from must be on or before --to", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(_load(args), read_only=True)
    try:
        rows = store.reengagements(since, until)
        nurtured = store.nurtured_count(until)
    finally:
        store.close()
    data = outcomes_report.summarise(rows, nurtured, since, until - timedelta(days=1))
    _emit(args, data, outcomes_report.render(data))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from syncd import explain

    store = open_store(_load(args), read_only=True)
    try:
        records = explain.explain(store, args.person)
    finally:
        store.close()
    if not records:
        print(
            f"syncd: no prospect matches {args.person!r} in the state store (use a prospect "
            "key like crm:contact:ID, an e-mail address or a CRM id; `syncd status` lists some)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    _emit(args, {"prospects": records}, explain.render(records))
    return EXIT_OK


def _pause_target(args: argparse.Namespace, config: LoadedConfig, store: Any) -> tuple[str, str]:
    """(scope, ref) of `pause`/`resume`; ConfigError-free: a bad target is a usage error."""
    if args.shard is not None:
        if args.shard not in config.shards:
            raise _Unknown(f"no shard {args.shard!r} in {config.path}")
        return "shard", args.shard
    if args.account is not None:
        if args.account.count(":") < 2 or ":account:" not in args.account:
            raise _Unknown(f"{args.account!r} is not an account key (shard:account:ID)")
        return "account", args.account
    keys = store.find_prospects(args.person)
    if not keys:
        raise _Unknown(f"no prospect matches {args.person!r} in the state store")
    if len(keys) > 1:
        raise _Unknown(f"{args.person!r} matches several prospects: {', '.join(keys)}")
    return "prospect", keys[0]


class _Unknown(Exception):
    """The person, account, shard or key named on the command line is not known."""


def cmd_pause(args: argparse.Namespace) -> int:
    config = _load(args)
    store = open_store(config)
    try:
        scope, ref = _pause_target(args, config, store)
        changed = store.pause(scope, ref, args.reason)
    finally:
        store.close()
    if changed:
        print(f"paused {scope} {ref}: no touch is written for it until `syncd resume`")
    else:
        print(f"{scope} {ref} was already paused")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    config = _load(args)
    store = open_store(config)
    try:
        scope, ref = _pause_target(args, config, store)
        moved = store.resume(scope, ref, system_clock().date())
    finally:
        store.close()
    if moved is None:
        print(f"syncd: {scope} {ref} is not paused", file=sys.stderr)
        return EXIT_FAILURE
    print(f"resumed {scope} {ref}: {moved} planned touch(es) go on from today")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    store = open_store(_load(args))
    try:
        if args.keys:
            dead = {d["ref"] for d in store.dead_letters(limit=None) if d["kind"] == "write"}
            unknown = [k for k in args.keys if k not in dead]
            if unknown:
                print(
                    f"syncd: not a dead-lettered write: {', '.join(unknown)} (nothing "
                    "re-queued; `syncd status` lists the dead letters and their keys)",
                    file=sys.stderr,
                )
                return EXIT_FAILURE
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
        with runtime(config, clock=clock_for(args.as_of)) as rt:
            rt.engine.decision_level = args.decision_level
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
    "report": cmd_report,
    "explain": cmd_explain,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "replay": cmd_replay,
    "check-config": cmd_check_config,
    "classify": cmd_classify,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
    "doctor": cmd_doctor,
    "auth": _plugin_command("auth"),
}


# Commands that may handle many records in one process: see syncd.gctuning.
THROUGHPUT_COMMANDS = frozenset({"run", "once", "replay"})


def _level(args: argparse.Namespace, quiet_command: bool) -> str | None:
    """The level asked for on the command line or in $SYNCD_LOG_LEVEL (None: the config's)."""
    if args.log_level:
        return str(args.log_level)
    if args.quiet:
        return "warning"
    env = os.environ.get("SYNCD_LOG_LEVEL", "").strip().lower()
    if env:
        if env not in LEVELS:
            raise ConfigError(
                f"SYNCD_LOG_LEVEL={env!r} is not a log level: use one of {', '.join(LEVELS)}"
            )
        return env
    return "warning" if quiet_command else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `run` logs to stdout for journald; every other command keeps stdout for its output.
    stream = sys.stdout if args.command == "run" else sys.stderr
    # One line per decision is for the journal; a person at a terminal reads the report.
    reader = args.command != "run" or stream.isatty()
    args.decision_level = "debug" if reader else "info"
    try:
        level = _level(args, args.command in ("demo", "sandbox", "classify"))
        configure(level=level or "info", fmt="auto", stream=stream)
        if level is None:
            try:  # the file's own logging settings, when it is readable
                logging_cfg = load_config(resolve_path(args.config)).core.logging
                configure(level=logging_cfg.level, fmt=logging_cfg.format, stream=stream)
            except (ConfigError, OSError):
                pass  # reported properly by the command itself
        if args.command in THROUGHPUT_COMMANDS:
            tune_for_throughput()
        return COMMANDS[args.command](args)
    except ConfigInvalid as exc:
        print(f"syncd: configuration error in {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"syncd: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SecretError as exc:  # revealed lazily, past the start-up check that names its key
        print(f"syncd: configuration error: a secret cannot be read: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (StoreNotReady, _Unknown) as exc:
        print(f"syncd: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except FatalSyncError as exc:
        print(f"syncd: stopped: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except RetriableError as exc:
        print(f"syncd: temporary failure, try again later: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except Exception as exc:  # a bug: its traceback goes through the redacting logger
        log.exception("command.crashed", command=args.command, error=type(exc).__name__)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
