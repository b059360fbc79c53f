"""The Gmail sandbox part: a seeded mailbox whose senders are people of the wired CRM."""

from __future__ import annotations

import stat
from pathlib import Path

from syncd.config import CORE_SHARD_KEYS
from syncd.connectors import Connector, ShardContext
from syncd.sandbox import available_parts
from syncd.testing.demo_data import demo_world
from syncd.testing.fakes import demo_directory
from syncd_gmail import GmailSettings, open_connector, plugin
from syncd_gmail.sandbox import GmailSandbox
from syncd_gmail.testing import read_all


def test_demo_mailbox_replies_are_all_matched_to_the_crm(tmp_path: Path) -> None:
    """Every seeded reply is read back as an event about a person of the wired CRM."""
    shard = GmailSandbox().start(
        port=0, seed="demo", workdir=tmp_path, crm_shards={"hubspot": "hs", "salesforce": "sf"}
    )
    try:
        assert shard.section["crm"] == "sf"  # Salesforce preferred when both run
        settings = GmailSettings.model_validate(
            {k: v for k, v in shard.section.items() if k not in CORE_SHARD_KEYS}
        )
        crm = Connector(directory=demo_directory("salesforce"))
        conn = open_connector(ShardContext("gmail", settings, tmp_path, {"sf": crm, "crm": crm}))
        events, _, _ = read_all(conn)
    finally:
        shard.stop()

    replies = demo_world().for_crm("salesforce").replies
    assert len(events) == len(replies) > 10
    assert {e.prospect.ref.system for e in events} == {"salesforce"}
    assert {r.expected_intent for r in replies} >= {
        "not_now",
        "not_interested",
        "competitor",
        "opt_out",
        "out_of_office",
    }
    assert len({r.language for r in replies}) >= 3
    assert any(e.reply is not None and e.reply.auto_reply for e in events)


def test_the_key_file_is_private_and_referenced_not_inlined(tmp_path: Path) -> None:
    """The service-account key lives in a 0600 file; the section holds a file: reference."""
    shard = GmailSandbox().start(
        port=0, seed="empty", workdir=tmp_path, crm_shards={"hubspot": "hubspot"}
    )
    try:
        reference = shard.section["service_account_key"]
        key_file = Path(reference.removeprefix("file:"))
        assert reference.startswith("file:")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert shard.section["crm"] == "hubspot"
        assert shard.base_url.startswith("http://127.0.0.1:")
    finally:
        shard.stop()


def test_without_a_crm_the_mailbox_shard_is_left_disabled(tmp_path: Path) -> None:
    """With no CRM to match senders against, the shard is configured but switched off."""
    shard = GmailSandbox().start(port=0, seed="demo", workdir=tmp_path, crm_shards={})
    try:
        assert shard.section["enabled"] is False and "crm" not in shard.section
    finally:
        shard.stop()


def test_the_part_is_offered_only_alongside_a_crm_part() -> None:
    """Without a CRM sandbox to wire to, the mailbox stays out and the demo keeps its own."""
    crm_parts = [name for name, part in available_parts() if part.order == 0]
    assert (plugin.sandbox is not None) == bool(crm_parts)
