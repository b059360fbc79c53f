"""Chaos: garbled answers on the mailboxes' batch calls and Microsoft Graph's delta reads.

Gmail reads bodies and writes drafts in `/batch` calls; Microsoft 365 reads replies by a
delta query and writes drafts and categories in `$batch`. The seeded sandbox runs once
cleanly and once with those answers garbled (HTML with 200, cut off, wrong types, keys
missing, one bad message): every cycle that meets one ends as a retriable error (or
dead-letters the one bad record) and is run again; no key is duplicated or lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.config import parse_config
from syncd.connectors import RetriableError
from syncd.runtime import runtime
from syncd.sandbox import sandbox
from syncd.testing.httpfake import Malformed

pytestmark = pytest.mark.slow
START = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
PASSES = 4
MAILBOXES = ("gmail", "m365")  # their CRM shards open (the directory) but do not cycle
Faults = Callable[[dict[str, Any]], None]


def _drafts_in_gmail(box: Any) -> Counter[str]:
    fake = {s.name: s.fake for s in box.shards}["gmail"]
    keys: Counter[str] = Counter()
    for mailbox in list(fake.mailboxes.values()):
        with mailbox.lock:
            drafts = [mailbox.messages[d.message_id] for d in mailbox.drafts.values()]
        keys.update(d.header("X-Syncd-Key") for d in drafts if d.header("X-Syncd-Key"))
    return keys


def _drafts_in_m365(box: Any) -> Counter[str]:
    fake = {s.name: s.fake for s in box.shards}["m365"]
    keys: Counter[str] = Counter()
    for mailbox in list(fake.mailboxes.values()):
        with mailbox.lock:
            drafts = [m for m in mailbox.messages.values() if m.folder == "drafts"]
        keys.update(d.header("x-syncd-key") for d in drafts if d.header("x-syncd-key"))
    return keys


def _run(workdir: Path, faults: Faults | None) -> tuple[Counter[str], list[str]]:
    """The seeded sandbox, PASSES passes of the mailbox shards ten minutes apart, as the
    daemon runs them; (draft keys in the mailboxes, dead-lettered records)."""
    now = [START]
    with sandbox(workdir, seed="demo") as box:
        fakes = {s.name: s.fake for s in box.shards}
        if faults is not None:
            faults(fakes)
        config = parse_config(box.config, workdir / "syncd.toml")
        with runtime(config, clock=lambda: now[0]) as rt:
            held = rt.acquire()
            mailboxes = [name for name in held if name in MAILBOXES]
            for _ in range(PASSES):
                rt.leases.renew()
                for name in mailboxes:
                    try:
                        rt.engine.cycle(name)
                    except RetriableError:
                        continue  # as the daemon does: the shard runs again next time
                now[0] += timedelta(minutes=10)
            dead = [d["ref"] for d in rt.store.dead_letters() if d["kind"] == "record"]
        return _drafts_in_gmail(box) + _drafts_in_m365(box), dead


def _graph_reads(how: Malformed) -> Faults:
    def inject(fakes: dict[str, Any]) -> None:
        fakes["m365"].malform(how, path=r"/messages/delta", times=2)
        fakes["m365"].malform(how, path=r"/\$batch", method="POST", times=1)

    return inject


def _graph_writes(how: Malformed) -> Faults:
    def inject(fakes: dict[str, Any]) -> None:
        fakes["m365"].malform(how, path=r"/createReply|/\$batch", method="POST", times=3)

    return inject


def _gmail_batches(how: Malformed) -> Faults:
    def inject(fakes: dict[str, Any]) -> None:
        fakes["gmail"].malform(how, path=r"/batch", method="POST", times=3)

    return inject


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Counter[str]:
    keys, dead = _run(tmp_path_factory.mktemp("clean"), None)
    assert keys and dead == [] and max(keys.values()) == 1
    return keys


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(_graph_reads(Malformed.WRONG_TYPE), id="graph-reads-wrong-type"),
        pytest.param(_graph_reads(Malformed.MISSING_KEY), id="graph-reads-missing-key"),
        pytest.param(_graph_writes(Malformed.HTML), id="graph-writes-html"),
        pytest.param(_gmail_batches(Malformed.HTML), id="gmail-batch-html"),
    ],
)
def test_garbled_mailbox_answers_lose_and_duplicate_nothing(
    tmp_path: Path, reference: Counter[str], faults: Faults
) -> None:
    """The keys written under garbled answers are the clean run's, each exactly once (less
    the touches of a message dead-lettered as unreadable)."""
    written, dead = _run(tmp_path, faults)
    assert {k: n for k, n in written.items() if n > 1} == {}
    lost = set(reference) - set(written)
    assert len(lost) <= 3 * len(dead), f"{len(lost)} keys lost, dead: {dead}"
