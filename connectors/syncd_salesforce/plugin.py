"""The `salesforce` connector plugin: opening a shard, its start checks, and `syncd doctor`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from syncd.connectors import ConfigError, Connector, ShardContext, SyncError
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.directory import SalesforceDirectory
from syncd_salesforce.profile import OrgFacts, OrgProfile
from syncd_salesforce.records import select, soql_string
from syncd_salesforce.sandbox import SalesforceSandbox
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.sink import SalesforceSink
from syncd_salesforce.source import SalesforceSource


def external_id_instructions(field: str) -> str:
    label = field.removesuffix("__c")
    return (
        f"Task has no external-ID field {field}, so task writes cannot be idempotent upserts "
        "(syncd falls back to create + lookup by a subject marker). Create it: Setup > Object "
        f"Manager > Activity > Fields & Relationships > New > Text, length 64, Field Name "
        f"'{label}', tick 'Unique' and 'External ID'; then give the integration user's "
        "permission set Edit access to it (Field-Level Security)"
    )


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

    def check() -> None:
        problems = hard_problems(settings, facts.profile())
        if problems:
            raise ConfigError(f"shards.{name}: " + "; ".join(problems))

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

    def doctor(self, settings: BaseModel) -> list[str]:
        assert isinstance(settings, SalesforceSettings)
        client = SalesforceClient(settings)
        try:
            return self._diagnose(settings, client)
        except SyncError as exc:
            return [f"cannot use the org: {exc}"]
        finally:
            client.close()

    def _diagnose(self, settings: SalesforceSettings, client: SalesforceClient) -> list[str]:
        profile = OrgFacts(client, settings.external_id_field).profile()
        problems = hard_problems(settings, profile)
        key = profile.task_key
        if not key.exists:
            problems.append(external_id_instructions(key.name))
        elif not key.external_id:
            problems.append(
                f"Task field {key.name} exists but is not an External ID: edit it under Setup > "
                "Object Manager > Activity > Fields & Relationships and tick 'External ID' and "
                "'Unique'"
            )
        elif not key.updateable:
            problems.append(
                f"the integration user cannot edit Task.{key.name}: grant Edit access in its "
                "permission set (Field-Level Security)"
            )
        usable = [s for s in settings.lead_statuses if s in profile.lead_statuses]
        if settings.lead_statuses and not usable:
            problems.append(
                "lead_statuses: none of the mapped statuses exists in this org, so no lead is "
                "read; map the org's rejection statuses "
                f"(it has: {', '.join(profile.lead_statuses)})"
            )
        if settings.fallback_owner_id:
            users = client.query_all(
                select(
                    ["Id"],
                    "User",
                    [f"Id = {soql_string(settings.fallback_owner_id)}", "IsActive = true"],
                ),
                what="doctor.owner",
            )
            if not users:
                problems.append(
                    "fallback_owner_id: no active user with this id; tasks for queue-owned "
                    "records need a user to own them"
                )
        if settings.campaign_id:
            campaigns = client.query_all(
                select(["Id"], "Campaign", [f"Id = {soql_string(settings.campaign_id)}"]),
                what="doctor.campaign",
            )
            if not campaigns:
                problems.append("campaign_id: no such campaign; nurture enrolments would fail")
        usage = client.usage
        if (
            usage.used is not None
            and usage.limit
            and usage.used >= usage.limit * settings.api_share
        ):
            problems.append(
                f"the org has used {usage.used} of its {usage.limit} daily API requests, more "
                f"than syncd's share ({settings.api_share:.0%}): syncd pauses until usage drops; "
                "raise api_share or the org's limit"
            )
        return problems


plugin = SalesforcePlugin()
