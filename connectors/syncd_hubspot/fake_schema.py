"""The fake portal's property schema: each object type's HubSpot-defined properties, typed.

Types drive how search compares values and what a write accepts; read-only properties (the
system timestamps, hs_object_id, hs_email_optout) are ignored on write, as HubSpot does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PropertyDef:
    name: str
    type: str  # string | number | datetime | date | enumeration | bool
    field_type: str = "text"
    options: tuple[str, ...] = ()
    read_only: bool = False
    has_unique_value: bool = False
    label: str = ""
    group_name: str = "information"
    hubspot_defined: bool = True

    def as_json(self, object_type: str, now: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group_name,
            "description": "",
            "options": [
                {"label": o, "value": o, "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.options)
            ],
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }


def default_schema() -> dict[str, dict[str, PropertyDef]]:
    """A new portal's properties per object type."""

    def p(name: str, kind: str = "string", *options: str, read_only: bool = False) -> PropertyDef:
        field_type = {"enumeration": "select", "bool": "booleancheckbox", "number": "number"}
        return PropertyDef(name, kind, field_type.get(kind, "text"), options, read_only)

    common = [p("hs_object_id", "number", read_only=True), p("hubspot_owner_id", "enumeration")]
    schema = {
        "contacts": [
            p("email"),
            p("firstname"),
            p("lastname"),
            p("jobtitle"),
            p("phone"),
            p("company"),
            p(
                "hs_lead_status",
                "enumeration",
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "OPEN_DEAL",
                "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT",
                "CONNECTED",
                "BAD_TIMING",
            ),
            p(
                "lifecyclestage",
                "enumeration",
                "subscriber",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
                "opportunity",
                "customer",
                "evangelist",
                "other",
            ),
            p("hs_email_optout", "bool", read_only=True),
            p("associatedcompanyid", "number"),
            p("notes_last_updated", "datetime", read_only=True),  # "Last Activity Date"
            p("createdate", "datetime", read_only=True),
            p("lastmodifieddate", "datetime", read_only=True),
        ],
        "companies": [
            p("name"),
            p("domain"),
            p("numberofemployees", "number"),
            p("annualrevenue", "number"),
            p("industry"),
            p("country"),
            p("city"),
            p("createdate", "datetime", read_only=True),
            p("hs_lastmodifieddate", "datetime", read_only=True),
        ],
        "deals": [
            p("dealname"),
            p("amount", "number"),
            p("dealstage", "enumeration"),
            p("pipeline", "enumeration"),
            p("closedate", "datetime"),
            p("closed_lost_reason"),
            p("deal_currency_code"),
            p("createdate", "datetime", read_only=True),
            p("hs_lastmodifieddate", "datetime", read_only=True),
        ],
        "tasks": [
            p("hs_timestamp", "datetime"),
            p("hs_task_subject"),
            p("hs_task_body"),
            p(
                "hs_task_status",
                "enumeration",
                "NOT_STARTED",
                "IN_PROGRESS",
                "WAITING",
                "COMPLETED",
                "DEFERRED",
            ),
            p("hs_task_priority", "enumeration", "NONE", "LOW", "MEDIUM", "HIGH"),
            p("hs_task_type", "enumeration", "CALL", "EMAIL", "TODO", "LINKED_IN"),
            p("hs_createdate", "datetime", read_only=True),
            p("hs_lastmodifieddate", "datetime", read_only=True),
        ],
    }
    return {kind: {d.name: d for d in [*common, *defs]} for kind, defs in schema.items()}
