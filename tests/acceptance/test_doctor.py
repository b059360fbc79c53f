"""`plan` writes nothing remotely, `doctor` checks what writes need, and `doctor --fix` is the
only command that creates the key property or field: run through `syncd` on the sandbox's
fakes, with the fakes switched to refuse every write where the command must not write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import main
from syncd.sandbox import Sandbox, sandbox, to_toml


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(tmp_path_factory.mktemp("doctor"), seed="demo") as running:
        yield running


def _fakes(box: Sandbox) -> dict[str, Any]:
    return {s.name: s.fake for s in box.shards if s.fake is not None}


@pytest.fixture
def read_only(box: Sandbox) -> Iterator[dict[str, Any]]:
    fakes = _fakes(box)
    for fake in fakes.values():
        fake.read_only, fake.refused_writes = True, []
    yield fakes
    for fake in fakes.values():
        fake.read_only = False


def _config(box: Sandbox, tmp_path: Path, **shard_overrides: dict[str, Any]) -> Path:
    config = json.loads(json.dumps(box.config))
    config["state"]["url"] = f"sqlite:///{tmp_path / 'state.db'}"
    for shard, values in shard_overrides.items():
        config["shards"][shard].update(values)
    path = tmp_path / "syncd.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _without_hubspot_key(box: Sandbox) -> Any:
    fake = _fakes(box)["hubspot"]
    with fake.lock:
        return fake.portal.schema["tasks"].pop("syncd_key")


def _restore_hubspot_key(box: Sandbox, prop: Any) -> None:
    fake = _fakes(box)["hubspot"]
    with fake.lock:
        fake.portal.schema["tasks"]["syncd_key"] = prop


def test_plan_on_fakes_that_refuse_every_write_writes_nothing(
    box: Sandbox, read_only: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` decides every shard's events and prints the touches, while every fake refuses
    any write: no write was even attempted."""
    code, out, _ = _run(capsys, "--config", str(_config(box, tmp_path)), "plan", "--json")
    assert code == 0
    assert set(read_only) == {"salesforce", "hubspot", "gmail", "m365"}
    assert {name: fake.refused_writes for name, fake in read_only.items()} == {
        name: [] for name in read_only
    }
    data = json.loads(out)
    assert data["setup_incomplete"] == {}
    assert all(fake.requests for fake in read_only.values())  # each shard really read


def test_plan_says_a_missing_key_property_is_missing_and_does_not_create_it(
    box: Sandbox, read_only: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the HubSpot syncd_key property, `plan` still previews (it only reads), names
    the missing property and the `doctor --fix` command, and the property stays missing."""
    prop = _without_hubspot_key(box)
    try:
        code, out, _ = _run(capsys, "--config", str(_config(box, tmp_path)), "plan")
        assert code == 0
        assert "hubspot: NOT SET UP" in out and "syncd doctor hubspot --fix" in out
        assert read_only["hubspot"].refused_writes == []
        assert "syncd_key" not in read_only["hubspot"].portal.schema["tasks"]
    finally:
        _restore_hubspot_key(box, prop)


def test_once_leaves_an_unset_shard_alone_and_doctor_fix_sets_it_up(
    box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`once` refuses the shard whose key property is missing (exit 1, the fix named),
    `doctor` fails that check, `doctor --fix` creates it, then doctor passes."""
    prop = _without_hubspot_key(box)
    config = str(_config(box, tmp_path))
    try:
        code, out, err = _run(capsys, "--config", config, "once", "--json")
        assert code == 1
        assert "hubspot" in json.loads(out)["setup_incomplete"]
        assert "hubspot" not in json.loads(out)["shards"]
        assert "shard.setup_incomplete" in err

        code, out, _ = _run(capsys, "--config", config, "doctor", "hubspot", "--json")
        checks = {c["name"]: c for c in json.loads(out)["shards"]["hubspot"]["checks"]}
        assert code == 1 and not checks["tasks.syncd_key"]["ok"]
        assert "--fix" in checks["tasks.syncd_key"]["fix"]

        code, out, _ = _run(capsys, "--config", config, "doctor", "hubspot", "--fix")
        assert code == 0 and "fixed" in out and "tasks.syncd_key" in out
        code, out, _ = _run(capsys, "--config", config, "doctor", "hubspot")
        assert code == 0 and "all passed" in out
    finally:
        _restore_hubspot_key(box, prop)


def test_doctor_fails_a_task_status_the_org_does_not_have_listing_the_valid_ones(
    box: Sandbox, read_only: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`task_status = "Bogus Status"` fails doctor (exit 1) with the org's valid statuses;
    doctor itself writes nothing."""
    config = _config(box, tmp_path, salesforce={"task_status": "Bogus Status"})
    code, out, _ = _run(capsys, "--config", str(config), "doctor", "salesforce")
    assert code == 1
    line = next(line for line in out.splitlines() if "task.status" in line)
    assert line.split()[0] == "FAIL" and "'Bogus Status'" in line
    assert "Not Started" in line and "Completed" in line
    assert "fix: set task_status" in out
    assert all(fake.refused_writes == [] for fake in read_only.values())


def test_doctor_json_lists_every_check_of_every_shard(
    box: Sandbox, read_only: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a shard, doctor checks them all (auth, key field, picklists, owner fallback)
    and writes nothing."""
    code, out, _ = _run(capsys, "--config", str(_config(box, tmp_path)), "doctor", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    assert all(fake.refused_writes == [] for fake in read_only.values())
    names = {s: {c["name"] for c in v["checks"]} for s, v in data["shards"].items()}
    assert {"auth", "task.external_id", "task.status", "task.priority", "task.subtype"} <= names[
        "salesforce"
    ]
    assert "owner.fallback" in names["salesforce"]
    assert {"auth", "tasks.syncd_key", "tasks.hs_task_type", "tasks.hs_task_priority"} <= names[
        "hubspot"
    ]
    assert {"auth", "mailbox"} <= names["gmail"]


def test_salesforce_doctor_fix_creates_the_missing_external_id_field(
    box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An org without the Task external-ID field: doctor fails it, `--fix` creates it through
    the Tooling API, and the next doctor passes."""
    config = str(_config(box, tmp_path, salesforce={"external_id_field": "Syncd_Doctor_Key__c"}))
    code, out, _ = _run(capsys, "--config", config, "doctor", "salesforce")
    assert code == 1 and "Syncd_Doctor_Key__c" in out and "--fix" in out
    code, out, _ = _run(capsys, "--config", config, "doctor", "salesforce", "--fix")
    assert code == 0 and "created Task.Syncd_Doctor_Key__c" in out
    code, _, _ = _run(capsys, "--config", config, "doctor", "salesforce")
    assert code == 0
