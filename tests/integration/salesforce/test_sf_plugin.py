"""The plugin: settings validation, start checks, `syncd doctor`, the sandbox part, logging."""

from __future__ import annotations

import re
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from pydantic import ValidationError

from syncd.connectors import ConfigError, ShardContext, load_plugin
from syncd.model import ProspectRef, SourceKind, TouchSpec, WriteKind
from syncd_salesforce import plugin
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.testkit import LocalOrg, read_all


def test_the_entry_point_resolves_to_the_plugin() -> None:
    """`type = "salesforce"` in a shard section loads this plugin."""
    assert load_plugin("salesforce") is plugin
    assert plugin.type_name == "salesforce"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"base_url": "http://sf.example.com"}, "127.0.0.1"),
        ({"private_key": None}, "needs username and private_key"),
        ({"auth": "client_credentials", "consumer_secret": "env:X"}, "needs my_domain"),
        ({"page_size": 5000}, "less than or equal to 2000"),
        ({"unknown_key": 1}, "Extra inputs are not permitted"),
    ],
)
def test_settings_refuse_unsafe_or_incomplete_values(
    org: LocalOrg, override: dict[str, object], message: str
) -> None:
    """Plain http only to the local sandbox, complete credentials, API page-size bounds."""
    values = org.settings().model_dump()
    values.update(override)
    with pytest.raises(ValidationError, match=message):
        SalesforceSettings.model_validate(values)


def test_a_missing_loss_reason_field_stops_the_shard_at_start(org: LocalOrg) -> None:
    """The start check names the missing field and the custom fields that do exist."""
    conn = org.connector(loss_reason_field="Why_Lost__c")
    with pytest.raises(ConfigError, match=r"Why_Lost__c.*Loss_Reason__c"):
        for check in conn.checks:
            check()


def test_explicit_lead_statuses_must_exist_in_the_org(org: LocalOrg) -> None:
    """A mapped status the org lacks is a config error listing the org's statuses."""
    conn = org.connector(lead_statuses={"Junk": "other", "Unqualified": "other"})
    with pytest.raises(ConfigError, match=r"Junk not a Lead Status.*Working - Contacted"):
        for check in conn.checks:
            check()


def test_default_lead_statuses_use_only_those_the_org_has(org: LocalOrg) -> None:
    """Without a mapping in the config, the defaults the org lacks are simply not queried."""
    org.lead("Unqualified")
    settings = org.settings().model_dump(exclude={"lead_statuses"})
    conn = plugin.open(ShardContext("sf", SalesforceSettings.model_validate(settings), org.workdir))
    for check in conn.checks:
        check()
    events, _ = read_all(conn)
    assert [e.reason_raw for e in events] == ["Unqualified"]


def test_doctor_is_quiet_on_a_well_set_up_org(org: LocalOrg) -> None:
    """No problems when fields, statuses, owner and campaign all check out."""
    campaign = org.fake.add_campaign("Nurture")
    checks = plugin.doctor(org.settings(fallback_owner_id=org.rep, campaign_id=campaign))
    assert [c for c in checks if not c.ok] == []


def test_doctor_explains_how_to_create_the_external_id_field(tmp_path: Path) -> None:
    """Without Syncd_Key__c the doctor says where to create it and with which options."""
    org = LocalOrg(tmp_path, task_external_id=None)
    try:
        [check] = [c for c in plugin.doctor(org.settings()) if not c.ok]
    finally:
        org.stop()
    assert check.name == "task.external_id" and "syncd doctor SHARD --fix" in check.fix
    assert "Object Manager > Activity" in check.fix and "'External ID'" in check.fix
    assert "Field Name 'Syncd_Key'" in check.fix and "Unique" in check.fix


def test_doctor_reports_wrong_ids_and_unreachable_orgs(org: LocalOrg) -> None:
    """A fallback owner or campaign that does not exist, and a refused login, are reported."""
    checks = plugin.doctor(
        org.settings(fallback_owner_id="005000000000001AAA", campaign_id="701000000000001AAA")
    )
    failed = {c.name: c for c in checks if not c.ok}
    assert set(failed) == {"owner.fallback", "campaign"}
    assert failed["owner.fallback"].detail.startswith("fallback_owner_id is no user")
    org.fake.revoke_credentials()
    [check] = plugin.doctor(org.settings())
    assert check.name == "auth" and not check.ok and "login refused" in check.detail


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    shard = plugin.sandbox.start(port=0, seed="demo", workdir=tmp_path, crm_shards={})
    try:
        yield tmp_path, shard
    finally:
        shard.stop()


def test_the_demo_sandbox_is_a_working_org(sandbox: tuple[Path, object]) -> None:
    """The sandbox shard's section opens a connector that reads the seeded demo rejections."""
    workdir, shard = sandbox
    section = dict(shard.section)  # type: ignore[attr-defined]
    assert section.pop("type") == "salesforce"
    key_file = Path(section["private_key"].removeprefix("file:"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    settings = SalesforceSettings.model_validate(section)
    assert all(c.ok for c in plugin.doctor(settings))
    conn = plugin.open(ShardContext("salesforce", settings, workdir))
    events, _ = read_all(conn)
    deals = [e for e in events if e.source is SourceKind.OPPORTUNITY]
    leads = [e for e in events if e.source is SourceKind.LEAD]
    assert len(deals) > 50 and len(leads) > 20
    assert len({e.reason for e in deals}) >= 5 and any(e.competitor for e in deals)
    assert any(e.prospect.opted_out for e in events)
    assert any(p.owner and p.owner.is_queue for p in (e.prospect for e in leads))
    assert len({e.prospect.account.country for e in deals if e.prospect.account}) >= 4
    assert len({round(e.occurred_at.timestamp() // 86400) for e in deals}) > 20


def test_logs_carry_ids_never_addresses_or_briefs(org: LocalOrg) -> None:
    """Reading and writing logs ids, codes and counts: no e-mail address, name or brief text."""
    org.closed_lost(contacts=2)
    lead = org.lead()
    with structlog.testing.capture_logs() as logs:
        conn = org.connector()
        events, _ = read_all(conn)
        assert conn.sink is not None
        conn.sink.write(
            [
                TouchSpec(
                    "k1",
                    WriteKind.TASK,
                    ProspectRef("sf", "lead", lead),
                    events[0].occurred_at.date(),
                    "Call Pat Person",
                    "Secret brief about Pat",
                ),
                TouchSpec(
                    "k2",
                    WriteKind.TASK,
                    ProspectRef("sf", "contact", "003000000000000AAA"),
                    events[0].occurred_at.date(),
                    "Call",
                    "Brief",
                ),
            ]
        )
    assert logs
    text = repr(logs)
    assert "@" not in text and "Pat" not in text and "brief" not in text.lower()


def test_the_example_config_documents_every_key_with_a_valid_value() -> None:
    """Uncommenting the example's salesforce block gives a valid section naming every key."""
    text = (Path(__file__).parents[3] / "config" / "syncd.example.toml").read_text()
    block = text.split("# ---- BEGIN salesforce ----")[1].split("# ---- END salesforce ----")[0]
    lines = [line[2:] for line in block.splitlines() if re.match(r"# [a-z_]+ = ", line)]
    section = tomllib.loads("\n".join(lines))
    assert set(section) - {"type"} == set(SalesforceSettings.model_fields)
    del section["type"], section["consumer_secret"]  # auth = "jwt"
    settings = SalesforceSettings.model_validate(section)
    assert settings.my_domain is None and settings.base_url is None
    assert settings.lead_statuses == SalesforceSettings.model_fields["lead_statuses"].get_default(
        call_default_factory=True
    )
