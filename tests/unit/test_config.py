"""Config loading: every problem at once with its key path, secrets only by reference."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncd.cli import main
from syncd.config import ConfigInvalid, load_config, parse_config, resolve_path
from syncd.secrets import SecretError, SecretRef

FAKE_SHARD = """
[shards.crm]
type = "fake"
events_file = "{events}"
remote_db = "{remote}"
"""


def write(tmp_path: Path, text: str, name: str = "syncd.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_wrong_type_and_unknown_key_are_both_reported(tmp_path: Path) -> None:
    """One run names every problem with its key path, not just the first, and an unknown
    key says which known key it is probably a typo of."""
    path = write(
        tmp_path,
        '[daemon]\npoll_interval_s = "often"\npoll_intervall_s = 5\n'
        '[shards.crm]\ntype = "fake"\nevents_file = "e"\nremote_db = "r"\nbatchsize = 3\n',
    )
    with pytest.raises(ConfigInvalid) as info:
        load_config(path)
    text = str(info.value)
    assert "daemon.poll_interval_s" in text
    assert "daemon.poll_intervall_s: unknown key; did you mean 'poll_interval_s'?" in text
    assert "shards.crm.batchsize: unknown key; did you mean 'batch_size'?" in text
    assert len(info.value.problems) == 3


def test_check_config_exits_78_naming_both_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`syncd check-config` on a bad file exits 78 and lists each problem on stderr."""
    path = write(tmp_path, '[engine]\nmax_attempts = "lots"\ntypo_key = 1\n')
    assert main(["--config", str(path), "check-config"]) == 78
    err = capsys.readouterr().err
    assert "engine.max_attempts" in err and "engine.typo_key" in err


def test_check_config_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid file exits 0 and says so."""
    path = write(tmp_path, FAKE_SHARD.format(events=tmp_path / "e", remote=tmp_path / "r"))
    assert main(["--config", str(path), "check-config"]) == 0
    assert "OK" in capsys.readouterr().out


def test_example_config_is_valid_and_complete() -> None:
    """The documented example parses, so every key it shows exists with a valid default."""
    example = Path(__file__).parents[2] / "config" / "syncd.example.toml"
    config = load_config(example)
    assert config.core.daemon.poll_interval_s == 300.0
    assert config.core.policy.horizon_days == 7


def test_unknown_connector_type_names_the_known_ones(tmp_path: Path) -> None:
    """A mistyped connector type lists the installed types."""
    path = write(tmp_path, '[shards.crm]\ntype = "salesfarce"\n')
    with pytest.raises(ConfigInvalid) as info:
        load_config(path)
    assert "unknown connector type 'salesfarce'" in str(info.value)
    assert "fake" in str(info.value) and "salesforce" in str(info.value)


def test_mailbox_must_name_an_existing_crm_shard(tmp_path: Path) -> None:
    """`crm = "..."` pointing nowhere is an error naming the configured shards."""
    text = FAKE_SHARD.format(events="e", remote="r") + 'crm = "sf_prod"\n'
    with pytest.raises(ConfigInvalid) as info:
        load_config(write(tmp_path, text))
    assert "shards.crm.crm: no shard named 'sf_prod'" in str(info.value)


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    """A missing config file is one clear problem, not a traceback."""
    with pytest.raises(ConfigInvalid) as info:
        load_config(tmp_path / "nope.toml")
    assert "--config" in str(info.value)


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    """--config wins over $SYNCD_CONFIG, which wins over /etc/syncd/syncd.toml."""
    monkeypatch.setenv("SYNCD_CONFIG", "/tmp/env.toml")
    assert resolve_path("/tmp/flag.toml") == Path("/tmp/flag.toml")
    assert resolve_path(None) == Path("/tmp/env.toml")
    monkeypatch.delenv("SYNCD_CONFIG")
    assert resolve_path(None) == Path("/etc/syncd/syncd.toml")


def test_config_writable_by_others_is_refused(tmp_path: Path) -> None:
    """A world-writable config could be changed by anyone: refused."""
    path = write(tmp_path, "")
    path.chmod(0o666)
    with pytest.raises(ConfigInvalid, match="writable by others"):
        load_config(path)


def test_literal_secret_in_config_is_refused_without_echoing_it() -> None:
    """A secret pasted in clear is an error whose message does not repeat the secret."""
    with pytest.raises(SecretError) as info:
        SecretRef("hunter2-very-secret")
    assert "hunter2" not in str(info.value)


def test_secret_references_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """env:, file: and credential: references read the secret from where they point."""
    monkeypatch.setenv("SYNCD_T_TOKEN", "from-env")
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    secret.chmod(0o600)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "hubspot").write_text("from-credential")
    (creds / "hubspot").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert SecretRef("env:SYNCD_T_TOKEN").reveal() == "from-env"
    assert SecretRef(f"file:{secret}").reveal() == "from-file"
    assert SecretRef("credential:hubspot").reveal() == "from-credential"


def test_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A secret file others can read is refused with the chmod that fixes it."""
    secret = tmp_path / "token"
    secret.write_text("x" * 10)
    os.chmod(secret, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        SecretRef(f"file:{secret}").reveal()


def test_check_config_reports_unresolvable_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check-config resolves every secret reference and names the ones that fail."""
    from syncd.config import parse_config

    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    from pydantic import BaseModel, ConfigDict

    from syncd.secrets import Secret

    class Settings(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        token: Secret

    class Plugin:
        type_name = "probe"
        settings_model = Settings

    monkeypatch.setattr("syncd.config.load_plugin", lambda name: Plugin())
    raw = {"shards": {"crm": {"type": "probe", "token": "env:NOT_SET_ANYWHERE"}}}
    parse_config(raw)  # without the check, references are not resolved
    with pytest.raises(
        ConfigInvalid, match=r"shards\.crm\.token: environment variable NOT_SET_ANYWHERE is not set"
    ):
        parse_config(raw, check_secrets=True)


def test_shard_names_cannot_hold_a_colon(tmp_path: Path) -> None:
    """A shard name is part of every stored key, so it is restricted and the error says how."""
    text = '[shards."sf:prod"]\ntype = "fake"\nevents_file = "e"\nremote_db = "r"\n'
    with pytest.raises(ConfigInvalid, match="may hold only letters, digits"):
        load_config(write(tmp_path, text))


def test_connector_files_belong_to_one_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connector's checkpoints live next to a SQLite store, or on PostgreSQL in a private
    directory of the state directory named for the database (never its password): another
    database on the same host never resumes them."""
    from syncd.runtime import database_dir_name, state_dir

    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))

    def where(url: str) -> Path:
        return state_dir(parse_config({"state": {"url": url}}))

    assert where(f"sqlite:///{tmp_path / 'a' / 'syncd.db'}") == tmp_path / "a"
    one = where("postgresql://syncd@db1.example:5432/syncd")
    assert one.parent == tmp_path / "state" and one.is_dir()
    assert one.stat().st_mode & 0o777 == 0o700
    assert where("postgresql://other@db1.example:5432/syncd") == one
    assert where("postgresql://syncd@db1.example:5432/syncd_staging") != one
    assert where("postgresql://syncd@db2.example:5432/syncd") != one
    named = database_dir_name("postgresql://u:secret@db1.example:5432/syncd")
    assert named == one.name and "secret" not in named
