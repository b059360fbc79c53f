"""What a portal must have for a shard to work, checked by `syncd doctor` (which only reads,
except `--fix`) and, for the task key, before a shard starts.

Tasks carry a custom `syncd_key` property: batch create is not idempotent, so an in-doubt
write is found again by searching that key. A portal without the property refuses every task
(400), so the shard does not start without it; `syncd doctor SHARD --fix` creates it (needs
the crm.schemas.custom.write scope), or an admin creates it by hand.
"""

from __future__ import annotations

from typing import Any

import structlog

from syncd.connectors import ConfigError, SyncError
from syncd.doctor import Check, failed, passed, values_check
from syncd.model import Priority, TaskChannel
from syncd_hubspot.crm import Crm
from syncd_hubspot.errors import status_of
from syncd_hubspot.settings import HubSpotSettings

log = structlog.get_logger(__name__)

SYNCD_KEY = "syncd_key"
SYNCD_KEY_DEFINITION = {
    "name": SYNCD_KEY,
    "label": "syncd key",
    "description": "Idempotency key of the follow-up syncd created this task for; do not edit.",
    "type": "string",
    "fieldType": "text",
    "groupName": "task_information",
    "hasUniqueValue": False,
    "hidden": True,
    "formField": False,
}
MISSING_KEY_HELP = (
    "the task property syncd_key is missing, so tasks cannot be written; run "
    "`syncd doctor SHARD --fix` (needs the crm.schemas.custom.write scope), or create it in "
    "HubSpot under Settings > Properties > Task properties as a single-line text property "
    "with the internal name syncd_key"
)
# The task property values the sink writes: doctor checks the portal has each of them.
TASK_STATUS = "NOT_STARTED"
TASK_TYPES = {
    TaskChannel.CALL: "CALL",
    TaskChannel.EMAIL: "EMAIL",
    TaskChannel.LINKEDIN: "TODO",  # HubSpot has no confirmed LinkedIn task type
    TaskChannel.TODO: "TODO",
}
PRIORITIES = {Priority.HIGH: "HIGH", Priority.NORMAL: "MEDIUM", Priority.LOW: "LOW"}


def _exists(crm: Crm, object_type: str, name: str) -> bool:
    try:
        crm.api.read(
            f"properties.{object_type}", "crm.properties.core_api", "get_by_name", object_type, name
        )
    except ConfigError as exc:
        if status_of(exc) == 404:
            return False
        raise
    return True


def _options(crm: Crm, object_type: str, name: str) -> list[str] | None:
    try:
        prop = crm.api.read(
            f"properties.{object_type}", "crm.properties.core_api", "get_by_name", object_type, name
        )
    except ConfigError as exc:
        if status_of(exc) == 404:
            return None
        raise
    return [str(o.get("value")) for o in prop.get("options") or []]


def syncd_key_exists(crm: Crm) -> bool:
    return _exists(crm, "tasks", SYNCD_KEY)


def create_syncd_key(crm: Crm) -> None:
    """Create the task property (the one change `syncd doctor --fix` makes)."""
    crm.api.call(
        "properties.create",
        "crm.properties.core_api",
        "create",
        "tasks",
        SYNCD_KEY_DEFINITION,
        write=True,
    )
    log.info("hubspot.property_created", object_type="tasks", name=SYNCD_KEY)


def checks(crm: Crm, settings: HubSpotSettings, *, fix: bool = False) -> list[Check]:
    """Every check of what this shard's reads and writes need, each with its fix."""
    try:
        stages = crm.deal_stages()
    except SyncError as exc:
        return [
            failed(
                "auth",
                f"cannot read the deal pipelines: {exc}",
                "check the token (or the OAuth app's credentials) and that the app has the "
                "scopes the admin guide lists (HubSpot > Private app), crm.schemas.deals.read "
                "among them",
            )
        ]
    found = [passed("auth", "the token reads the portal's deal pipelines")]
    if settings.read_deals and not any(s.lost for s in stages):
        found.append(
            failed(
                "deals.lost_stage",
                "no deal pipeline has a closed-lost stage (closed, win probability 0)",
                "add one in Settings > Objects > Deals > Pipelines, or set read_deals = false",
            )
        )
    elif settings.read_deals:
        found.append(passed("deals.lost_stage", f"{sum(s.lost for s in stages)} lost stage(s)"))
    found.append(_key_check(crm, fix=fix))
    found += _task_value_checks(crm)
    found += _optional_checks(crm, settings)
    return found


def _key_check(crm: Crm, *, fix: bool) -> Check:
    name = "tasks.syncd_key"
    if syncd_key_exists(crm):
        return passed(name, "the task property syncd_key exists")
    if not fix:
        return failed(name, "the task property syncd_key is missing", MISSING_KEY_HELP)
    try:
        create_syncd_key(crm)
    except SyncError as exc:
        return failed(name, f"creating the task property syncd_key failed: {exc}", MISSING_KEY_HELP)
    return passed(name, "created the task property syncd_key", fixed=True)


def _task_value_checks(crm: Crm) -> list[Check]:
    """The enumeration values task writes use must exist, or every task is refused."""
    used = {
        "hs_task_type": set(TASK_TYPES.values()),
        "hs_task_priority": set(PRIORITIES.values()),
        "hs_task_status": {TASK_STATUS},
    }
    out = []
    for prop, values in used.items():
        options = _options(crm, "tasks", prop)
        if options is None:
            out.append(
                failed(f"tasks.{prop}", f"the task property {prop} is missing", "contact HubSpot")
            )
        else:
            out.append(values_check(f"tasks.{prop}", f"task property {prop}", values, options))
    return out


def _optional_checks(crm: Crm, settings: HubSpotSettings) -> list[Check]:
    found: list[Check] = []
    if settings.read_contacts and settings.lead_statuses:
        options = _options(crm, "contacts", "hs_lead_status") or []
        check = values_check(
            "contacts.lead_statuses", "hs_lead_status", settings.lead_statuses, options
        )
        if not check.ok:
            check = failed(
                check.name,
                check.detail,
                "set lead_statuses to the internal values shown under Settings > Properties > "
                "Lead Status",
            )
        found.append(check)
    if settings.competitor_property:
        prop = settings.competitor_property
        found.append(
            passed("deals.competitor_property", f"deal property {prop} exists")
            if _exists(crm, "deals", prop)
            else failed(
                "deals.competitor_property",
                f"competitor_property {prop!r} is not a deal property",
                "fix the name or leave it empty",
            )
        )
    for channel, name in settings.channel_optout_properties.items():
        key = f"contacts.optout.{channel.value}"
        found.append(
            passed(key, f"contact property {name} exists")
            if _exists(crm, "contacts", name)
            else failed(
                key,
                f"channel_optout_properties.{channel.value} names {name!r}, which is not a "
                "contact property",
                "create it as a checkbox or fix the name",
            )
        )
    problems = _list_problems(crm, settings)
    if settings.nurture_list_id:
        found.append(
            failed("lists.nurture", problems[0], "use the id of a static (MANUAL) contact list")
            if problems
            else passed("lists.nurture", f"list {settings.nurture_list_id} is a static list")
        )
    return found


def _list_problems(crm: Crm, settings: HubSpotSettings) -> list[str]:
    if not settings.nurture_list_id:
        return []
    try:
        answer: Any = crm.api.read(
            "lists.get", "crm.lists.lists_api", "get_by_id", settings.nurture_list_id
        )
    except ConfigError as exc:
        if status_of(exc) == 404:
            return [
                f"nurture_list_id {settings.nurture_list_id} does not exist; create a static "
                "contact list and use its id"
            ]
        raise
    if (answer.get("list") or {}).get("processingType") != "MANUAL":
        return [
            f"nurture_list_id {settings.nurture_list_id} is an active (DYNAMIC) list; syncd can "
            "only add to a static (MANUAL) contact list"
        ]
    return []
