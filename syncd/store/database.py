"""Opening the state database and applying versioned migrations at start.

SQLite (the default) runs in WAL mode with full fsync, so a killed process loses nothing
that was committed; PostgreSQL is reached through psycopg 3. Migrations are numbered steps
applied in order inside one transaction, under an advisory lock on PostgreSQL so several
instances starting at once migrate exactly once.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.connectors import ConfigError
from syncd.store import schema
from syncd.store.codec import dumps, loads

MIGRATION_LOCK_ID = 7_301_551  # arbitrary, fixed: pg_advisory_xact_lock key for migrations


def default_state_dir() -> Path:
    """$STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/syncd, else ~/.local/state/syncd."""
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "syncd"


def default_url() -> str:
    return f"sqlite:///{default_state_dir() / 'syncd.db'}"


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3 (the `postgres` extra)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _private_file(path: Path) -> None:
    """Create the database file owner-only (0600) before SQLite does with the umask's mode;
    its -wal and -shm files take the same mode. It holds prospects' ids and reply subjects."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return


# Daemons on PostgreSQL name their connections so; counting the names counts the instances.
DAEMON_APP_PREFIX = "syncd-daemon:"


def create_db_engine(url: str, *, instance: str | None = None) -> Engine:
    """The engine for `url`; `instance` (a daemon's owner id) names its PostgreSQL sessions
    so other instances can count the live daemons (see `Store.live_instances`)."""
    url = normalise_url(url or default_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private_file(Path(path))
        engine = sa.create_engine(url, json_serializer=dumps, json_deserializer=loads)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql+psycopg") and importlib.util.find_spec("psycopg") is None:
        raise ConfigError(
            "state.url: PostgreSQL needs the driver: pip install 'syncd[postgres]' "
            "(or 'syncd[postgres-binary]' where no system libpq is installed)"
        )
    connect_args = {"application_name": (DAEMON_APP_PREFIX + instance)[:63]} if instance else {}
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=dumps,
        json_deserializer=loads,
    )


class StoreNotReady(RuntimeError):
    """The state database is missing or older than this syncd (read-only commands)."""


def open_existing(url: str) -> Engine:
    """An engine on a database that `syncd once`/`run` has created and migrated; nothing is
    created or changed here."""
    url = normalise_url(url or default_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:" and not Path(path).exists():
            raise StoreNotReady(f"no state database at {path}: run `syncd once` or `syncd run`")
    engine = create_db_engine(url)
    with engine.connect() as conn:
        version = current_version(conn)
    if version != LATEST:
        engine.dispose()
        raise StoreNotReady(
            f"the state database is at schema version {version}, this syncd needs {LATEST}: "
            "run `syncd once` (or restart `syncd run`) to migrate it"
        )
    return engine


def _v1(conn: Connection) -> None:
    """The first schema (every table as schema.py had it then, without later columns)."""
    schema.metadata.create_all(conn)


def _v2(conn: Connection) -> None:
    """plans.reviewed_on: the day the policy last reviewed a live plan."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("plans")}
    if "reviewed_on" not in columns:  # a fresh database got it from create_all in step 1
        conn.execute(sa.text("ALTER TABLE plans ADD COLUMN reviewed_on VARCHAR(10)"))


_EVENT_COLUMNS = "shard, event_id, prospect_key, occurred_at, processed_at, payload"
_EVENTS_V3 = (  # the events table of schemas 3 to 9
    "CREATE TABLE events (shard VARCHAR(200) NOT NULL, event_id VARCHAR(300) NOT NULL, "
    "prospect_key VARCHAR(300) NOT NULL, occurred_at FLOAT NOT NULL, "
    "processed_at FLOAT NOT NULL, payload JSON NOT NULL, PRIMARY KEY (shard, event_id))"
)


def _v3(conn: Connection) -> None:
    """events keyed by (shard, event_id): ids are unique only within one mailbox or portal.

    The stored ids stay as they are, so nothing already decided is read as new: no
    re-processing, no duplicate writes. Payloads written before keep no shard of their own;
    the store fills it in from the row when it reads them (`Store.history`).
    """
    pk = sa.inspect(conn).get_pk_constraint("events")["constrained_columns"]
    if pk != ["shard", "event_id"]:  # a fresh database got the new key from create_all
        if conn.dialect.name == "postgresql":
            name = sa.inspect(conn).get_pk_constraint("events")["name"] or "events_pkey"
            conn.execute(sa.text(f'ALTER TABLE events DROP CONSTRAINT "{name}"'))
            conn.execute(sa.text("ALTER TABLE events ADD PRIMARY KEY (shard, event_id)"))
        else:  # SQLite cannot change a primary key in place: rebuild the table
            conn.execute(sa.text("DROP INDEX IF EXISTS ix_events_prospect_key"))
            conn.execute(sa.text("ALTER TABLE events RENAME TO events_v2"))
            conn.execute(sa.text(_EVENTS_V3))
            conn.execute(sa.text("CREATE INDEX ix_events_prospect_key ON events (prospect_key)"))
            conn.execute(
                sa.text(
                    f"INSERT INTO events ({_EVENT_COLUMNS}) "  # noqa: S608  (fixed names)
                    f"SELECT {_EVENT_COLUMNS} FROM events_v2"
                )
            )
            conn.execute(sa.text("DROP TABLE events_v2"))


def _v4(conn: Connection) -> None:
    """reviews: replies held until a rep has read them."""
    if not sa.inspect(conn).has_table("reviews"):  # a fresh database got it in step 1
        schema.reviews.create(conn)


def _v5(conn: Connection) -> None:
    """outbox.attempted_at: when the write was last sent, so the in-doubt grace period counts
    from the attempt whatever restarted since."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("outbox")}
    if "attempted_at" not in columns:
        conn.execute(sa.text("ALTER TABLE outbox ADD COLUMN attempted_at FLOAT"))


def _v6(conn: Connection) -> None:
    """plans.brief (a plan's shared brief, stored once), and the indexes that the daily review
    (live plans by shard and review day) and retention (audit rows by age) look up by."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("plans")}
    if "brief" not in columns:
        kind = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
        conn.execute(sa.text(f"ALTER TABLE plans ADD COLUMN brief {kind}"))
    # plans from before reviews were recorded at creation: due for review at once
    conn.execute(sa.text("UPDATE plans SET reviewed_on = '0001-01-01' WHERE reviewed_on IS NULL"))
    indexes = {i["name"] for i in sa.inspect(conn).get_indexes("plans")}
    if "ix_plans_review" not in indexes:  # a fresh database has schema 11's from create_all
        conn.execute(
            sa.text("CREATE INDEX ix_plans_review ON plans (shard, status, reviewed_on, plan_id)")
        )
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_audit_at ON audit (at)"))


def _v7(conn: Connection) -> None:
    """pauses (`syncd pause`), and each shard's last error and failure (`syncd status`)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("pauses"):  # a fresh database got it from create_all in step 1
        schema.pauses.create(conn)
    columns = {c["name"] for c in inspector.get_columns("shards")}
    for name, kind in (
        ("last_error", "VARCHAR(500)"),
        ("last_error_at", "FLOAT"),
        ("failed_at", "FLOAT"),
    ):
        if name not in columns:
            conn.execute(sa.text(f"ALTER TABLE shards ADD COLUMN {name} {kind}"))


def _v8(conn: Connection) -> None:
    """touches.owner_id (the per-owner daily cap counts by it) and the outcomes table."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("touches")}
    if "owner_id" not in columns:  # a fresh database got it from create_all in step 1
        conn.execute(sa.text("ALTER TABLE touches ADD COLUMN owner_id VARCHAR(200)"))
        conn.execute(sa.text("CREATE INDEX ix_touches_owner_due ON touches (owner_id, due)"))
    schema.outcomes.create(conn, checkfirst=True)


def _v9(conn: Connection) -> None:
    """Leaner state: touches are found through their plans, so their prospect and account
    indexes go. Rows keep their encoding: the store reads schema 8's rows as they are."""
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_touches_prospect_key"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_touches_account_key"))


PACKED_COLUMNS = (
    ("prospects", "snapshot"),
    ("events", "payload"),
    ("plans", "context"),
    ("plans", "rules"),
    ("touches", "touch"),
    ("audit", "data"),
    ("outbox", "spec"),
    ("reviews", "hold"),
    ("outcomes", "attribution"),
)


def _v10(conn: Connection) -> None:
    """JSON columns stored compressed (store.packed). Rows are not rewritten: the store reads
    JSON text where it finds it. SQLite keeps each column's declared type (a value carries its
    own); PostgreSQL's JSON columns become BYTEA holding the same JSON text as UTF-8."""
    if conn.dialect.name != "postgresql":
        return
    inspector = sa.inspect(conn)
    for table, column in PACKED_COLUMNS:
        kinds = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        if isinstance(kinds[column], sa.LargeBinary):  # a fresh database got BYTEA in step 1
            continue
        conn.execute(
            sa.text(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE BYTEA "
                f"USING convert_to({column}::text, 'UTF8')"
            )
        )


_PLAN_COLUMNS = (
    "shard, generation, callback_on, status, created_at, rules, context, reviewed_on, brief"
)
_TOUCH_COLUMNS = ("seq", "shard", "due", "state", "touch", "outbox_key", "note", "owner_id")
_PROSPECT_COLUMNS = "key, shard, account_key, outcome, snapshot, updated_at"
_OLD_INDEXES = (
    "ix_plans_review",
    "ix_plans_prospect_key",
    "ix_touches_due",
    "ix_touches_owner_due",
    "ix_touches_prospect_key",
    "ix_touches_account_key",
    "ix_prospects_account_key",
    "ix_events_prospect_key",
)


def _v11(conn: Connection) -> None:
    """Integer ids for people and plans: events refer to their person, and touches to their
    plan, by id instead of by text key, and touches no longer repeat the person's and
    account's keys; a third of the state per prospect. The four tables are rebuilt and their
    rows copied as they are (every event keeps its id, so nothing is decided again); the keys
    and plan ids callers see are unchanged."""
    if "plan_id" not in {c["name"] for c in sa.inspect(conn).get_columns("plans")}:
        return  # a fresh database got the new tables from create_all in step 1
    _add_missing_people(conn)
    for name in _OLD_INDEXES:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    for table in ("prospects", "events", "plans", "touches"):
        conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_v9"))
        if conn.dialect.name == "postgresql":  # a primary key's name stays with its table
            pk = sa.inspect(conn).get_pk_constraint(f"{table}_v9")["name"] or f"{table}_pkey"
            conn.execute(
                sa.text(f'ALTER TABLE {table}_v9 RENAME CONSTRAINT "{pk}" TO "{table}_v9_pkey"')
            )
        schema.metadata.tables[table].create(conn)
    for sql in (
        f"INSERT INTO prospects ({_PROSPECT_COLUMNS}) "  # noqa: S608  (fixed names)
        f"SELECT {_PROSPECT_COLUMNS} FROM prospects_v9 ORDER BY key",
        "INSERT INTO events (shard, event_id, prospect, occurred_at, processed_at, payload) "
        "SELECT e.shard, e.event_id, p.id, e.occurred_at, e.processed_at, e.payload "
        "FROM events_v9 e JOIN prospects p ON p.key = e.prospect_key",
        f"INSERT INTO plans (prospect, {_PLAN_COLUMNS}) "  # noqa: S608  (fixed names)
        f"SELECT p.id, {', '.join('v.' + c for c in _PLAN_COLUMNS.split(', '))} FROM plans_v9 v "
        "JOIN prospects p ON p.key = v.prospect_key ORDER BY v.created_at, v.plan_id",
        f"INSERT INTO touches (plan, {', '.join(_TOUCH_COLUMNS)}) "  # noqa: S608
        f"SELECT p.id, {', '.join('o.' + c for c in _TOUCH_COLUMNS)} FROM touches_v9 o "
        "JOIN plans_v9 v ON v.plan_id = o.plan_id JOIN prospects w ON w.key = v.prospect_key "
        "JOIN plans p ON p.prospect = w.id AND p.generation = v.generation",
    ):
        conn.execute(sa.text(sql))
        if conn.dialect.name == "postgresql":  # the next copy joins it: plan with its statistics
            conn.execute(sa.text(f"ANALYZE {sql.split()[2]}"))
    for table in ("touches", "plans", "events", "prospects"):
        conn.execute(sa.text(f"DROP TABLE {table}_v9"))
    if conn.dialect.name == "postgresql":  # explain's look-up by subject: a hash index
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_audit_subject"))
        conn.execute(sa.text("CREATE INDEX ix_audit_subject ON audit USING hash (subject)"))


def _add_missing_people(conn: Connection) -> None:
    """A prospects row for anyone an event or a plan names without one (syncd always wrote
    them together; a hand-edited database might not have), so that nothing is lost in the
    copy: an event forgotten would be decided, and written, again."""
    people = sa.table(
        "prospects",
        sa.column("key"),
        sa.column("shard"),
        sa.column("snapshot", schema.prospects.c.snapshot.type),
        sa.column("updated_at"),
    )
    missing: dict[str, str] = {}
    for name in ("events", "plans"):
        old = sa.table(name, sa.column("prospect_key"), sa.column("shard"))
        known = sa.select(people.c.key).where(people.c.key == old.c.prospect_key).exists()
        for key, shard in conn.execute(  # NOT EXISTS: an anti-join, where NOT IN is quadratic
            sa.select(old.c.prospect_key, sa.func.min(old.c.shard))
            .where(~known)
            .group_by(old.c.prospect_key)
        ):
            missing.setdefault(key, shard)
    if missing:
        conn.execute(
            people.insert(),
            [
                {"key": key, "shard": shard, "snapshot": {}, "updated_at": 0.0}
                for key, shard in sorted(missing.items())
            ],
        )


# Numbered migrations, applied in order. Never edit a released step; append a new one.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
    (7, _v7),
    (8, _v8),
    (9, _v9),
    (10, _v10),
    (11, _v11),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(version or 0)


class SchemaTooNew(RuntimeError):
    """The state database was migrated by a newer syncd than this one."""


def check_version(version: int) -> None:
    """Raise SchemaTooNew when a newer syncd has migrated the database."""
    if version > LATEST:
        raise SchemaTooNew(
            f"state database is at schema version {version}, newer than this syncd "
            f"({LATEST}); upgrade syncd or restore a matching backup"
        )


def migrate(engine: Engine) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    applied: list[int] = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_ID})
        version = current_version(conn)
        check_version(version)
        for number, step in MIGRATIONS:
            if number > version:
                step(conn)
                conn.execute(
                    schema.schema_version.insert(), {"version": number, "applied_at": time.time()}
                )
                applied.append(number)
    return applied
