"""The M365 sandbox part: a seeded mailbox wired to HubSpot, and `doctor` against it."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.config import CORE_SHARD_KEYS
from syncd.connectors import Connector, ShardContext
from syncd.model import Cursor, RejectionEvent
from syncd.testing.demo_data import demo_world
from syncd.testing.fakes import demo_directory
from syncd_m365 import M365Settings, open_connector, plugin
from syncd_m365.sandbox import M365Sandbox


def test_demo_mailbox_is_wired_to_hubspot_and_every_reply_matches(tmp_path: Path) -> None:
    """HubSpot is preferred when both CRMs run; every seeded reply is read back as an event
    about one of its people; the secret sits in a private file the section only names."""
    shard = M365Sandbox().start(
        port=0, seed="demo", workdir=tmp_path, crm_shards={"hubspot": "hs", "salesforce": "sf"}
    )
    try:
        assert shard.section["crm"] == "hs"
        secret_ref = str(shard.section["client_secret"])
        assert secret_ref.startswith("file:")
        assert stat.S_IMODE(Path(secret_ref[5:]).stat().st_mode) == 0o600
        settings = M365Settings.model_validate(
            {k: v for k, v in shard.section.items() if k not in CORE_SHARD_KEYS}
        )
        crm = Connector(directory=demo_directory("hubspot"))
        conn = open_connector(ShardContext("m365", settings, tmp_path, {"hs": crm, "crm": crm}))
        assert conn.source is not None
        events: list[RejectionEvent] = []
        cursor: Cursor | None = None
        for page in conn.source.read(cursor, datetime.now(UTC) + timedelta(minutes=1)):
            events.extend(page.events)
        checks = plugin.doctor(settings)
        box = shard.fake.mailbox(settings.mailbox)
        with box.lock:
            box.categories.clear()
        missing = plugin.doctor(settings)
        fixed = plugin.doctor(settings, fix=True)
        after = plugin.doctor(settings)
    finally:
        shard.stop()

    replies = demo_world().for_crm("hubspot").replies
    assert len(events) == len(replies) > 10
    assert {e.prospect.ref.system for e in events} == {"hubspot"}
    assert [(c.name, c.ok) for c in checks] == [("mailbox", True), ("category", True)]
    assert [(c.name, c.ok) for c in missing] == [("mailbox", True), ("category", False)]
    assert [(c.name, c.ok) for c in fixed] == [("mailbox", True), ("category", True)]
    assert all(c.ok for c in after)


def test_doctor_names_the_access_policy_when_the_mailbox_is_out_of_scope(tmp_path: Path) -> None:
    """An app whose application access policy leaves the mailbox out fails the mailbox check
    with the fix to apply, and no traceback."""
    shard = M365Sandbox().start(port=0, seed="none", workdir=tmp_path, crm_shards={"hubspot": "hs"})
    try:
        settings = M365Settings.model_validate(
            {
                **{k: v for k, v in shard.section.items() if k not in CORE_SHARD_KEYS},
                "mailbox": "someone.else@harborlight.example",
            }
        )
        shard.fake.mailbox("someone.else@harborlight.example")
        (check,) = plugin.doctor(settings)
    finally:
        shard.stop()
    assert check.name == "mailbox" and not check.ok
    assert "application access policy" in check.detail + check.fix
