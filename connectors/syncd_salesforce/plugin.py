"""The `salesforce` connector plugin: opening a shard, its start checks, and `syncd doctor`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from syncd.connectors import ConfigError, Connector, ShardContext
from syncd.doctor import Check
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.directory import SalesforceDirectory
from syncd_salesforce.doctor import external_id_instructions, run_checks
from syncd_salesforce.profile import OrgFacts, OrgProfile
from syncd_salesforce.sandbox import SalesforceSandbox
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.sink import SalesforceSink
from syncd_salesforce.source import SalesforceSource


def hard_problems(settings: SalesforceSettings, profile: OrgProfile) -> list[str]:
    """Problems that make the shard's queries fail: refused at start."""
    problems = []
    for key, field in (
        ("loss_reason_field", settings.loss_reason_field),
        ("competitor_field", settings.competitor_field),
    ):
        if field and not profile.has("Opportunity", field):
            custom = sorted(f for f in profile.fields.get("Opportunity", ()) if f.endswith("__c"))
            problems.append(
                f"{key}: Opportunity has no field {field}; set {key} to the field's API name "
                f'or to "" to read none (custom fields: {", ".join(custom) or "none"})'
            )
    if settings.strict_lead_statuses:
        missing = [s for s in settings.lead_statuses if s not in profile.lead_statuses]
        if missing:
            problems.append(
                f"lead_statuses: {', '.join(missing)} not a Lead Status in this org; "
                f"it has: {', '.join(profile.lead_statuses)}"
            )
    return problems


def build_connector(
    name: str,
    settings: SalesforceSettings,
    *,
    state_dir: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Connector:
    """The shard's roles around one shared client (tests pass their own `sleep`)."""
    client = SalesforceClient(settings, sleep=sleep)
    facts = OrgFacts(client, settings.external_id_field)

    def check() -> str | None:
        """Read-only; a missing external-ID field degrades writes, so it is a notice."""
        profile = facts.profile()
        problems = hard_problems(settings, profile)
        if problems:
            raise ConfigError(f"shards.{name}: " + "; ".join(problems))
        if not profile.task_key.exists:
            return (
                f"Task has no external-ID field {profile.task_key.name}: tasks are created and "
                "found by a subject marker instead of upserted; "
                + external_id_instructions(profile.task_key.name, name)
            )
        return None

    return Connector(
        source=SalesforceSource(client, facts, settings, name, spill_dir=state_dir),
        directory=SalesforceDirectory(client, facts, settings, name),
        sink=SalesforceSink(client, facts, settings),
        checks=[check],
        quota_remaining=client.governor.remaining_ratio,
    )


class SalesforcePlugin:
    type_name = "salesforce"
    settings_model: type[BaseModel] = SalesforceSettings
    sandbox = SalesforceSandbox()

    def open(self, ctx: ShardContext) -> Connector:
        assert isinstance(ctx.settings, SalesforceSettings)
        return build_connector(ctx.name, ctx.settings, state_dir=ctx.state_dir)

    def doctor(self, settings: BaseModel, fix: bool = False) -> list[Check]:
        """Every check of the org's set-up; only `fix` writes (the external-ID field)."""
        assert isinstance(settings, SalesforceSettings)
        client = SalesforceClient(settings)
        try:
            return run_checks(client, settings, fix=fix)
        finally:
            client.close()


plugin = SalesforcePlugin()
