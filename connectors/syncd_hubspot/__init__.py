"""HubSpot connector for syncd: closed-lost deals and rejected contacts in, follow-up tasks,
opt-outs and nurture enrolments out, through hubspot-api-client.

Registered under the `syncd.connectors` entry point as `hubspot`.
"""

from __future__ import annotations

from pydantic import BaseModel

from syncd.connectors import Connector, ShardContext
from syncd.doctor import Check
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.connector import open_connector
from syncd_hubspot.crm import Crm
from syncd_hubspot.sandbox import HubSpotSandbox
from syncd_hubspot.schema import checks
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

    def doctor(self, settings: BaseModel, fix: bool = False) -> list[Check]:
        """Every check of the portal's set-up; only `fix` writes (the syncd_key property)."""
        assert isinstance(settings, HubSpotSettings)
        api = HubSpotApi(settings)
        try:
            return checks(Crm(api), settings, fix=fix)
        finally:
            api.close()


plugin = HubSpotPlugin()
