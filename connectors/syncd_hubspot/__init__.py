"""HubSpot connector for syncd: closed-lost deals and rejected contacts in, follow-up tasks,
opt-outs and nurture enrolments out, through hubspot-api-client.

Registered under the `syncd.connectors` entry point as `hubspot`.
"""

from __future__ import annotations

from pydantic import BaseModel

from syncd.connectors import Connector, ShardContext
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.connector import open_connector
from syncd_hubspot.crm import Crm
from syncd_hubspot.sandbox import HubSpotSandbox
from syncd_hubspot.schema import problems
from syncd_hubspot.settings import HubSpotSettings

__all__ = ["HubSpotPlugin", "HubSpotSettings", "open_connector", "plugin"]


class HubSpotPlugin:
    type_name = "hubspot"
    settings_model: type[BaseModel] = HubSpotSettings
    sandbox = HubSpotSandbox()

    def open(self, ctx: ShardContext) -> Connector:
        settings = ctx.settings
        assert isinstance(settings, HubSpotSettings)
        return open_connector(ctx.name, settings)

    def doctor(self, settings: BaseModel) -> list[str]:
        """Problems in the portal that stop the shard, each saying what to do; creates the
        syncd_key task property when `create_properties` allows it."""
        assert isinstance(settings, HubSpotSettings)
        return problems(Crm(HubSpotApi(settings)), settings)


plugin = HubSpotPlugin()
