"""What a portal must have for a shard to work, checked (and where allowed, fixed) up front.

Tasks carry a custom `syncd_key` property: batch create is not idempotent, so an in-doubt
write is found again by searching that key. A portal without the property refuses every task
(400), so it is created when `create_properties` allows it, and otherwise reported with the
exact steps to create it by hand.
"""

from __future__ import annotations

from typing import Any

import structlog

from syncd.connectors import ConfigError, SyncError
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
    "the task property syncd_key is missing: set create_properties = true for this shard and "
    "run `syncd doctor` again (needs the crm.schemas.custom.write scope), or create it in "
    "HubSpot under Settings > Properties > Task properties as a single-line text property "
    "with the internal name syncd_key"
)


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


def _options(crm: Crm, object_type: str, name: str) -> set[str] | None:
    try:
        prop = crm.api.read(
            f"properties.{object_type}", "crm.properties.core_api", "get_by_name", object_type, name
        )
    except ConfigError as exc:
        if status_of(exc) == 404:
            return None
        raise
    return {str(o.get("value")) for o in prop.get("options") or []}


def ensure_syncd_key(crm: Crm, *, create: bool) -> bool:
    """True when the property exists (after creating it if allowed)."""
    if _exists(crm, "tasks", SYNCD_KEY):
        return True
    if not create:
        return False
    crm.api.call(
        "properties.create",
        "crm.properties.core_api",
        "create",
        "tasks",
        SYNCD_KEY_DEFINITION,
        write=True,
    )
    log.info("hubspot.property_created", object_type="tasks", name=SYNCD_KEY)
    return True


def problems(crm: Crm, settings: HubSpotSettings) -> list[str]:
    """Everything in the portal that stops this shard from working, each with the fix."""
    found: list[str] = []
    try:
        stages = crm.deal_stages()
    except SyncError as exc:
        return [f"cannot read the deal pipelines: {exc}"]
    if settings.read_deals and not any(s.lost for s in stages):
        found.append(
            "no deal pipeline has a closed-lost stage (closed, win probability 0): add one in "
            "Settings > Objects > Deals > Pipelines, or set read_deals = false"
        )
    if not ensure_syncd_key(crm, create=settings.create_properties):
        found.append(MISSING_KEY_HELP)
    if settings.read_contacts and settings.lead_statuses:
        options = _options(crm, "contacts", "hs_lead_status") or set()
        unknown = sorted(set(settings.lead_statuses) - options)
        if unknown:
            found.append(
                f"lead_statuses names values hs_lead_status does not have: {', '.join(unknown)}; "
                "use the internal values shown under Settings > Properties > Lead Status"
            )
    if settings.competitor_property and not _exists(crm, "deals", settings.competitor_property):
        found.append(
            f"competitor_property {settings.competitor_property!r} is not a deal property; "
            "fix the name or leave it empty"
        )
    for channel, name in settings.channel_optout_properties.items():
        if not _exists(crm, "contacts", name):
            found.append(
                f"channel_optout_properties.{channel.value} names {name!r}, which is not a "
                "contact property; create it as a checkbox or fix the name"
            )
    found += _list_problems(crm, settings)
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
