"""Bad config files: one exit 78 listing every problem with its key path and the fix, never
a traceback; a reload that would break the daemon is refused and the old config kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.cli import main
from syncd.config import ConfigInvalid, load_config
from syncd.daemon import Daemon
from syncd.store import Store
from syncd.store.database import LATEST
from tests.conftest import fake_config, rejection

BASE = '[shards.crm]\ntype = "fake"\nevents_file = "e.jsonl"\nremote_db = "r.db"\n'


def _check(tmp_path: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "syncd.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    code = main(["--config", str(path), "check-config"])
    err = capsys.readouterr().err
    assert code == 78, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"[daemon]\npoll_interval_s = 5\n# caf\xe9\n", "line 3: not UTF-8 text"),
        ("a = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
        ("[policy]\nhorizon_days = " + "9" * 5000 + "\n", "not valid TOML"),
        (f"[policy]\nhorizon_days = {2**63 - 1}\n{BASE}", "policy.horizon_days"),
        (f"[policy]\nhorizon_days = 100000\n{BASE}", "policy.horizon_days: Input should be"),
        (f"[engine]\nlag_s = inf\n{BASE}", "engine.lag_s: must be a finite number"),
        (f"[engine]\nlag_s = nan\n{BASE}", "engine.lag_s: must be a finite number"),
        (f'[state]\nurl = "mysql://u@db/syncd"\n{BASE}', "state.url: Value error, scheme 'mysql'"),
        (f'[state]\nurl = "not a url at all"\n{BASE}', "state.url: Value error, not a database"),
        (f'[state]\nurl = "sqllite:///x.db"\n{BASE}', "did you mean 'sqlite'?"),
        (f'[state]\nurl = "postgresql://u:hunter22@db/s"\n{BASE}', "state.url: Value error, holds"),
        (
            f'[state]\nurl = "postgresql://u@db/s"\npassword = "env:SYNCD_NO_SUCH_VAR_X"\n{BASE}',
            "state.password: environment variable SYNCD_NO_SUCH_VAR_X is not set",
        ),
        (
            f"[policy.icp]\nmin_employees = 500\nmax_employees = 50\n{BASE}",
            "min_employees (500) is above max_employees (50)",
        ),
        (
            f'[policy.calendar]\ndefault_timezone = "Europe/Berln"\n{BASE}',
            "did you mean 'Europe/Berlin'?",
        ),
        (f'[policy.icp]\ncountries = ["DE", "Narnia"]\n{BASE}', "'Narnia' is not a country"),
        (f'[policy.icp]\ncountries = ["XX"]\n{BASE}', "'XX' is not an ISO 3166-1 country code"),
        (f"[daemon]\npoll_intervl_s = 5\n{BASE}", "did you mean 'poll_interval_s'?"),
    ],
)
def test_each_bad_value_is_exit_78_with_its_key_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | bytes, expected: str
) -> None:
    """check-config names the key and says what to do, without a traceback."""
    assert expected in _check(tmp_path, text, capsys)


def test_every_problem_is_listed_in_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Five independent problems in one file: all five in one run."""
    err = _check(
        tmp_path,
        '[state]\nurl = "sqllite:///x.db"\n[policy]\nhorizon_days = -1\n'
        "[policy.icp]\nmin_revenue = 9.0\nmax_revenue = 1.0\n"
        '[policy.calendar]\ndefault_timezone = "Mars/Olympus"\n'
        f"{BASE}batchsize = 3\n",
        capsys,
    )
    assert "5 problem(s)" in err
    for key in ("state.url", "policy.horizon_days", "policy.icp", "default_timezone", "batchsize"):
        assert key in err


def test_an_unreachable_database_is_one_line_and_exit_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL nobody listens on: `status` prints one line naming state.url, exit 78."""
    path = fake_config(tmp_path, [rejection(1)], state_url="postgresql://syncd@127.0.0.1:9/x")
    code = main(["--config", str(path), "status"])
    err = capsys.readouterr().err
    assert code == 78
    assert err.strip().count("\n") == 0 and "state.url: cannot open the state database" in err


def test_check_config_tries_the_database_without_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config reports an unreachable PostgreSQL in one line (exit 78), and accepts a
    SQLite file that the first run will create, without creating it."""
    path = fake_config(tmp_path, [rejection(1)], state_url="postgresql://syncd@127.0.0.1:9/x")
    assert main(["--config", str(path), "check-config"]) == 78
    assert "state.url: cannot open the state database" in capsys.readouterr().err
    path = fake_config(tmp_path, [rejection(1)], state_url=f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["--config", str(path), "check-config"]) == 0
    assert not (tmp_path / "new.db").exists()


def test_a_schema_newer_than_the_code_is_one_line_and_exit_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state database migrated by a newer syncd: one line saying to upgrade, exit 78."""
    db = tmp_path / "state.db"
    Store.open(f"sqlite:///{db}").close()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_version VALUES (:v, 0)"), {"v": LATEST + 1})
    engine.dispose()
    path = fake_config(tmp_path, [rejection(1)], state_url=f"sqlite:///{db}")
    for command in ("check-config", "once"):
        code = main(["--config", str(path), command])
        err = capsys.readouterr().err
        assert code == 78
        assert err.strip().count("\n") == 0 and "newer than this syncd" in err


# --- SIGHUP ---------------------------------------------------------------------------------


@pytest.fixture
def daemon(tmp_path: Path) -> Daemon:
    path = fake_config(tmp_path, [rejection(1)])
    return Daemon(path, load_config(path))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"[shards.crm\n",
        b"a = " + b"[" * 5000,
        b"[engine]\nlag_s = inf",
    ],
)
def test_a_bad_or_empty_file_on_reload_keeps_the_running_config(
    daemon: Daemon, content: bytes
) -> None:
    """Garbage, a broken or deep file, an infinite number, and an empty file (which would
    drop every shard) are all refused; the daemon keeps its config."""
    before = daemon.config
    daemon.config_path.write_bytes(content)
    assert daemon._try_reload() is False
    assert daemon.config is before


# --- fuzz -------------------------------------------------------------------------------------

KEYS = st.sampled_from(
    ["state", "url", "daemon", "engine", "lag_s", "policy", "horizon_days", "icp", "shards",
     "crm", "type", "min_employees", "calendar", "default_timezone", "countries", "password"]
)  # fmt: skip
SCALARS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.booleans()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=st.dictionaries(KEYS, st.dictionaries(KEYS, VALUES, max_size=4), max_size=4),
    noise=st.binary(max_size=40),
    use_noise=st.booleans(),
)
def test_fuzzed_files_never_crash_the_loader_or_the_reload(
    daemon: Daemon, tables: dict[str, dict[str, object]], noise: bytes, use_noise: bool
) -> None:
    """Whatever the file holds, loading gives a config or ConfigInvalid, and a reload
    either takes a valid config or keeps the running one; nothing else escapes."""
    text = "".join(
        f"[{table}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in body.items())
        for table, body in tables.items()
    ).encode("utf-8", "surrogatepass")
    daemon.config_path.write_bytes(noise + text if use_noise else text)
    try:
        load_config(daemon.config_path, check_secrets=True)
    except ConfigInvalid as exc:
        assert exc.problems
    before = daemon.config
    if not daemon._try_reload():
        assert daemon.config is before
    daemon.config = before
