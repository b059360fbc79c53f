"""Start-up against a vendor that is briefly or lastingly unavailable: retried, then the
shard alone is failed and the others run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.cli import main
from syncd_hubspot.fake import HubSpotFake
from tests.conftest import fake_config, rejection

TOKEN_ENV = "SYNCD_TEST_STARTUP_HUBSPOT_TOKEN"
PROPERTY_CHECK = r"/crm/v3/properties/"


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotFake]:
    fake = HubSpotFake().start()
    monkeypatch.setenv(TOKEN_ENV, fake.add_private_app())
    # the key property `syncd doctor --fix` creates: the shard's set-up is complete
    fake.portal.create_property("tasks", {"name": "syncd_key", "type": "string"})
    try:
        yield fake
    finally:
        fake.stop()


def _config(tmp_path: Path, portal: HubSpotFake) -> Path:
    return fake_config(
        tmp_path,
        [rejection(n) for n in range(3)],
        extra=(
            "[daemon]\nstartup_attempts = 2\nstartup_retry_base_s = 0.01\n"
            "startup_retry_max_s = 0.02\n"
            f'[shards.hs]\ntype = "hubspot"\naccess_token = "env:{TOKEN_ENV}"\n'
            f'base_url = "{portal.base_url}"\ntimeout_s = 5\n'
            "read_contacts = false\nread_deals = false\n"
        ),
    )


def test_a_lasting_outage_at_start_up_fails_that_shard_and_the_others_run(
    tmp_path: Path, portal: HubSpotFake, capsys: pytest.CaptureFixture[str]
) -> None:
    """HubSpot answers 503 to every start-up check: two tries, then `once` exits 1 with
    one line naming the shard (no traceback) while the fake CRM shard writes its touches."""
    portal.server_errors(1000, status=503, path=PROPERTY_CHECK)
    code = main(["--config", str(_config(tmp_path, portal)), "once", "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["shards"]["crm"]["writes"]["ok"] == 3
    assert "hs" not in json.loads(out)["shards"]
    assert "syncd: shard hs did not start" in err and "Traceback" not in err
    assert "shard.start_failed" in err
    # two start-up tries, each a read the client itself tries four times
    assert len(portal.calls(path=PROPERTY_CHECK)) == 2 * 4


def test_one_429_at_start_up_is_retried_and_the_shard_runs(
    tmp_path: Path, portal: HubSpotFake, capsys: pytest.CaptureFixture[str]
) -> None:
    """A single 429 (and then a 502) during the start-up checks costs a retry, not the shard."""
    portal.storm(1, path=PROPERTY_CHECK, retry_after="0")
    portal.server_errors(1, status=502, path=PROPERTY_CHECK)
    code = main(["--config", str(_config(tmp_path, portal)), "once", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert set(json.loads(out)["shards"]) == {"crm", "hs"}
    assert "Traceback" not in err
