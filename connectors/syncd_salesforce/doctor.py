"""`syncd doctor` for a Salesforce shard: every check of what its reads and writes need.

Everything here reads (describes, SOQL) except `--fix`, which creates the Task external-ID
field through the Tooling API. The picklist checks read the same describe the writes are
validated against, so `task_status = "Bogus Status"` fails here instead of dead-lettering
every task with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST.
"""

from __future__ import annotations

from typing import Any

import structlog

from syncd.connectors import SyncError
from syncd.doctor import Check, failed, passed, values_check
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.profile import OrgFacts, OrgProfile
from syncd_salesforce.records import select, soql_string
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.sink import PRIORITIES, SUBTYPES

log = structlog.get_logger(__name__)

KEY_LENGTH = 64


def external_id_instructions(field: str, shard: str = "SHARD") -> str:
    label = field.removesuffix("__c")
    return (
        f"run `syncd doctor {shard} --fix` (creates it through the Tooling API; needs "
        "Customize Application), or create it by hand: Setup > Object Manager > Activity > "
        f"Fields & Relationships > New > Text, length {KEY_LENGTH}, Field Name '{label}', tick "
        "'Unique' and 'External ID'; then give the integration user's permission set Edit "
        "access to it (Field-Level Security)"
    )


def run_checks(client: SalesforceClient, settings: SalesforceSettings, *, fix: bool) -> list[Check]:
    try:
        facts = OrgFacts(client, settings.external_id_field)
        profile = facts.profile()
    except SyncError as exc:
        return [
            failed(
                "auth",
                f"cannot log in or describe the org: {exc}",
                "check consumer_key, username and the private key (or consumer secret), and "
                "that the connected app is approved for the integration user",
            )
        ]
    found = [passed("auth", "logged in; Opportunity, Lead, Contact and Task described")]
    task = client.restful("sobjects/Task/describe", what="doctor.describe")
    found.append(_task_access(task))
    found.append(_key_check(client, settings, profile, fix=fix))
    found += _picklist_checks(task, settings)
    found += _source_checks(settings, profile)
    found += _reference_checks(client, settings)
    found.append(_usage_check(client, settings))
    return found


def _picklist(describe: dict[str, Any], field: str) -> list[str] | None:
    for f in describe.get("fields", []):
        if f.get("name") == field:
            return [str(v["value"]) for v in f.get("picklistValues", []) if v.get("active", True)]
    return None


def _task_access(task: dict[str, Any]) -> Check:
    if task.get("createable") and task.get("updateable"):
        return passed("task.access", "the integration user may create and edit tasks")
    return failed(
        "task.access",
        "the integration user may not create or edit Task records",
        "grant Create and Edit on Tasks in the integration user's profile or permission set",
    )


def _key_check(
    client: SalesforceClient, settings: SalesforceSettings, profile: OrgProfile, *, fix: bool
) -> Check:
    name, key = "task.external_id", profile.task_key
    if key.exists and key.external_id and key.updateable:
        return passed(name, f"Task.{key.name} is an editable external ID: writes are upserts")
    if key.exists and not key.external_id:
        return failed(
            name,
            f"Task.{key.name} exists but is not an External ID",
            "edit it under Setup > Object Manager > Activity > Fields & Relationships and tick "
            "'External ID' and 'Unique'",
        )
    if key.exists:
        return failed(
            name,
            f"the integration user cannot edit Task.{key.name}",
            "grant Edit access in its permission set (Field-Level Security)",
        )
    missing = (
        f"Task has no external-ID field {key.name}: writes fall back to create + lookup by a "
        "subject marker, which is slower and can duplicate a task after a lost answer"
    )
    if not fix:
        return failed(name, missing, external_id_instructions(key.name))
    try:
        create_key_field(client, key.name)
    except SyncError as exc:
        return failed(
            name, f"creating Task.{key.name} failed: {exc}", external_id_instructions(key.name)
        )
    return passed(
        name,
        f"created Task.{key.name} (external ID, unique); grant the integration user Edit "
        "access to it if its permission set does not already",
        fixed=True,
    )


def create_key_field(client: SalesforceClient, field: str) -> None:
    """The one change `syncd doctor --fix` makes: the external-ID field on Activity."""
    body = {
        "FullName": f"Activity.{field}",
        "Metadata": {
            "label": field.removesuffix("__c").replace("_", " "),
            "type": "Text",
            "length": KEY_LENGTH,
            "externalId": True,
            "unique": True,
            "description": "Idempotency key of the follow-up syncd created; do not edit.",
        },
    }
    client.restful("tooling/sobjects/CustomField", method="POST", json=body, what="doctor.fix")
    log.info("salesforce.field_created", sobject="Activity", name=field)


def _picklist_checks(task: dict[str, Any], settings: SalesforceSettings) -> list[Check]:
    used = {
        "task.status": ("Status", {settings.task_status}),
        "task.priority": ("Priority", set(PRIORITIES.values())),
        "task.subtype": ("TaskSubtype", set(SUBTYPES.values())),
    }
    out = []
    for name, (field, values) in used.items():
        valid = _picklist(task, field)
        if valid is None:
            out.append(failed(name, f"Task has no field {field}", "check the org's Task object"))
        else:
            out.append(values_check(name, f"Task.{field}", values, valid))
    status = out[0]
    if not status.ok:
        out[0] = failed(
            status.name,
            status.detail,
            "set task_status to one of the valid values (Setup > Object Manager > Activity > "
            "Task Status lists them)",
        )
    return out


def _source_checks(settings: SalesforceSettings, profile: OrgProfile) -> list[Check]:
    out = []
    for key, field in (
        ("loss_reason_field", settings.loss_reason_field),
        ("competitor_field", settings.competitor_field),
    ):
        if not field:
            continue
        if profile.has("Opportunity", field):
            out.append(passed(f"opportunity.{key}", f"Opportunity.{field} exists"))
        else:
            custom = sorted(f for f in profile.fields.get("Opportunity", ()) if f.endswith("__c"))
            out.append(
                failed(
                    f"opportunity.{key}",
                    f"Opportunity has no field {field} (custom fields: "
                    f"{', '.join(custom) or 'none'})",
                    f'set {key} to the field\'s API name, or to "" to read none',
                )
            )
    mapped = list(settings.lead_statuses)
    if mapped:
        out.append(
            values_check("lead.statuses", "Lead Status", mapped, profile.lead_statuses)
            if settings.strict_lead_statuses
            else _usable_statuses(mapped, profile)
        )
    return out


def _usable_statuses(mapped: list[str], profile: OrgProfile) -> Check:
    usable = [s for s in mapped if s in profile.lead_statuses]
    if usable:
        return passed("lead.statuses", f"reads leads in status {', '.join(usable)}")
    return failed(
        "lead.statuses",
        f"none of the mapped lead statuses exists in this org (it has: "
        f"{', '.join(profile.lead_statuses)})",
        "map the org's rejection statuses in lead_statuses",
    )


def _reference_checks(client: SalesforceClient, settings: SalesforceSettings) -> list[Check]:
    out = []
    if settings.fallback_owner_id:
        users = client.query_all(
            select(["Id", "IsActive"], "User", [f"Id = {soql_string(settings.fallback_owner_id)}"]),
            what="doctor.owner",
        )
        if users and users[0].get("IsActive"):
            out.append(passed("owner.fallback", "fallback_owner_id is an active user"))
        else:
            state = "an inactive user" if users else "no user"
            out.append(
                failed(
                    "owner.fallback",
                    f"fallback_owner_id is {state}: tasks for queue-owned records would be refused",
                    "set fallback_owner_id to the id of an active user (Setup > Users)",
                )
            )
    else:
        out.append(
            passed(
                "owner.fallback",
                "no fallback_owner_id: tasks of queue-owned records go to the integration user",
            )
        )
    if settings.campaign_id:
        campaigns = client.query_all(
            select(["Id"], "Campaign", [f"Id = {soql_string(settings.campaign_id)}"]),
            what="doctor.campaign",
        )
        out.append(
            passed("campaign", "the nurture campaign exists")
            if campaigns
            else failed(
                "campaign",
                "campaign_id names no campaign: nurture enrolments would fail",
                "set campaign_id to an existing campaign's id, or leave it empty",
            )
        )
    return out


def _usage_check(client: SalesforceClient, settings: SalesforceSettings) -> Check:
    usage = client.usage
    if usage.used is None or not usage.limit:
        return passed("api.usage", "the org reported no API usage yet")
    share = f"{usage.used} of {usage.limit} daily API requests used"
    if usage.used >= usage.limit * settings.api_share:
        return failed(
            "api.usage",
            f"{share}, more than syncd's share ({settings.api_share:.0%}): syncd pauses",
            "raise api_share or the org's limit, or wait for usage to drop",
        )
    return passed("api.usage", share)
