"""Opening a HubSpot shard: one portal connection shared by the source, directory and sink."""

from __future__ import annotations

import time
from collections.abc import Callable

from syncd.connectors import Connector, SetupIncomplete
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.crm import Crm
from syncd_hubspot.directory import HubSpotDirectory
from syncd_hubspot.schema import MISSING_KEY_HELP, syncd_key_exists
from syncd_hubspot.settings import HubSpotSettings
from syncd_hubspot.sink import HubSpotSink
from syncd_hubspot.source import HubSpotSource


def open_connector(
    shard: str,
    settings: HubSpotSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Connector:
    """`sleep` and `clock` drive every wait (governor, search limiter, retries, token expiry),
    so tests can run a 429 storm or a token's lifetime without waiting for real."""
    crm = Crm(HubSpotApi(settings, sleep=sleep, clock=clock))

    def syncd_key_checked() -> None:
        """Read-only: creating the property is `syncd doctor SHARD --fix`'s job."""
        if not syncd_key_exists(crm):
            raise SetupIncomplete(MISSING_KEY_HELP.replace("SHARD", shard))

    return Connector(
        source=HubSpotSource(crm, settings, shard),
        directory=HubSpotDirectory(crm, settings, shard, clock=clock),
        sink=HubSpotSink(crm, settings, shard),
        checks=[syncd_key_checked],
        quota_remaining=crm.api.remaining_ratio,
    )
