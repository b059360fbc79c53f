"""The local Salesforce's metadata: the standard objects a CRM sync touches, as describe shows them.

Field properties (createable, updateable, filterable, restricted picklists, references and
relationship names) are what the fake enforces on writes and queries, so a client that sets
a read-only field or filters on a long text area is refused here as it would be by the org.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # id reference string textarea picklist boolean currency double int percent date
    #            datetime email phone
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    filterable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    external_id: bool = False
    unique: bool = False
    length: int = 0
    custom: bool = False
    default: Any = None

    @property
    def required(self) -> bool:
        return self.createable and not self.nillable and self.default is None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.name.removesuffix("__c").removesuffix("Id").replace("_", " "),
            "type": self.type,
            "length": self.length,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "filterable": self.filterable,
            "sortable": self.filterable,
            "custom": self.custom,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "defaultedOnCreate": self.default is not None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": v == self.default, "label": v, "value": v}
                for v in self.picklist
            ],
        }


@dataclass(frozen=True)
class ChildRelationship:
    name: str  # e.g. OpportunityContactRoles
    child: str  # e.g. OpportunityContactRole
    field: str  # the child's reference field, e.g. OpportunityId


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    fields: dict[str, FieldDef]
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    createable: bool = True
    queryable: bool = True
    _lower: dict[str, str] = field(default_factory=dict)
    unique: tuple[str, ...] = ()  # unique fields (external ids), indexed by the org
    blank: dict[str, Any] = field(default_factory=dict)  # a new record before its values

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._lower = {name.lower(): name for name in self.fields}
        self._lower.update({name.lower(): name for name in self.children})
        self.unique = tuple(n for n, f in self.fields.items() if f.unique)
        self.blank = {}
        for name, fdef in self.fields.items():
            if fdef.type == "boolean":
                self.blank[name] = bool(fdef.default)
            elif fdef.default is not None and fdef.createable and fdef.type != "reference":
                self.blank[name] = fdef.default
            else:
                self.blank[name] = None

    def field(self, name: str) -> FieldDef | None:
        canonical = self._lower.get(name.lower())
        return self.fields.get(canonical) if canonical else None

    def child(self, name: str) -> ChildRelationship | None:
        canonical = self._lower.get(name.lower())
        return self.children.get(canonical) if canonical else None

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a relationship name (`Account` -> AccountId)."""
        lowered = name.lower()
        for fdef in self.fields.values():
            if fdef.relationship_name and fdef.relationship_name.lower() == lowered:
                return fdef
        return None

    def add_field(self, fdef: FieldDef) -> None:
        self.fields[fdef.name] = fdef
        self.reindex()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.name,
            "keyPrefix": self.key_prefix,
            "createable": self.createable,
            "updateable": self.createable,
            "queryable": self.queryable,
            "custom": False,
            "fields": [f.describe() for f in self.fields.values()],
            "childRelationships": [
                {"childSObject": c.child, "field": c.field, "relationshipName": c.name}
                for c in self.children.values()
            ],
            "urls": {"sobject": f"/services/data/v59.0/sobjects/{self.name}"},
        }


def _s(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **kw)


def _b(name: str, default: bool = False, **kw: Any) -> FieldDef:
    return FieldDef(name, "boolean", nillable=False, default=default, **kw)


def _ref(name: str, *to: str, rel: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", reference_to=to, relationship_name=rel, length=18, **kw)


def _pick(name: str, values: tuple[str, ...], length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", picklist=values, length=length, **kw)


def _ro(name: str, type_: str, **kw: Any) -> FieldDef:
    return FieldDef(name, type_, createable=False, updateable=False, **kw)


def _system() -> list[FieldDef]:
    ro = {"createable": False, "updateable": False}
    return [
        _ro("Id", "id", nillable=False, length=18),
        _ro("IsDeleted", "boolean", nillable=False),
        _ro("CreatedDate", "datetime", nillable=False),
        _ref("CreatedById", "User", rel="CreatedBy", nillable=False, **ro),
        _ro("LastModifiedDate", "datetime", nillable=False),
        _ref("LastModifiedById", "User", rel="LastModifiedBy", nillable=False, **ro),
        _ro("SystemModstamp", "datetime", nillable=False),
    ]


def _obj(name: str, prefix: str, fields: list[FieldDef], **kw: Any) -> ObjectDef:
    return ObjectDef(name, prefix, {f.name: f for f in [*_system(), *fields]}, **kw)


INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Education",
    "Finance",
    "Healthcare",
    "Hospitality",
    "Logistics",
    "Manufacturing",
    "Retail",
    "Software",
    "Technology",
    "Other",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_SUBTYPES = ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
ROLES = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int
    forecast: str
    closed: bool = False
    won: bool = False


DEFAULT_STAGES = (
    Stage("Prospecting", 10, "Pipeline"),
    Stage("Qualification", 10, "Pipeline"),
    Stage("Discovery", 20, "Pipeline"),
    Stage("Needs Analysis", 20, "Pipeline"),
    Stage("Proposal", 60, "Pipeline"),
    Stage("Negotiation", 80, "BestCase"),
    Stage("Closed Won", 100, "Closed", closed=True, won=True),
    Stage("Closed Lost", 0, "Omitted", closed=True),
)


def build_schema(
    *,
    lead_statuses: tuple[str, ...],
    stages: tuple[Stage, ...] = DEFAULT_STAGES,
    country_picklists: bool = True,
    task_external_id: str | None = "Syncd_Key__c",
    loss_reason_field: str | None = "Loss_Reason__c",
    competitor_field: str | None = "Competitor__c",
) -> dict[str, ObjectDef]:
    """The objects of one fake org; the optional parts mirror settings real orgs differ in."""
    ro = {"createable": False, "updateable": False}
    account = [
        _s("Name", nillable=False),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("AnnualRevenue", "currency"),
        _pick("Industry", INDUSTRIES),
        _s("BillingCountry", 80),
        _s("Website"),
        _ref("OwnerId", "User", rel="Owner", nillable=False, default="(current user)"),
    ]
    if country_picklists:
        account.append(_pick("BillingCountryCode", (), length=10))
    contact = [
        _s("FirstName", 40),
        _s("LastName", 80, nillable=False),
        _ro("Name", "string", length=121),
        FieldDef("Email", "email", length=80),
        _s("Title", 128),
        _s("Department", 80),
        _ref("AccountId", "Account", rel="Account"),
        _b("HasOptedOutOfEmail"),
        _b("DoNotCall"),
        _b("HasOptedOutOfFax"),
        _ref("OwnerId", "User", rel="Owner", nillable=False, default="(current user)"),
        _ro("LastActivityDate", "date"),  # set by activities; `FakeSalesforce.log_activity`
    ]
    lead = [
        _s("FirstName", 40),
        _s("LastName", 80, nillable=False),
        _ro("Name", "string", length=121),
        _s("Company", nillable=False),
        FieldDef("Email", "email", length=80),
        _s("Title", 128),
        _pick("Status", lead_statuses, restricted=True, nillable=False, default=lead_statuses[0]),
        FieldDef("IsConverted", "boolean", nillable=False, updateable=False, default=False),
        _b("HasOptedOutOfEmail"),
        _b("DoNotCall"),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("AnnualRevenue", "currency"),
        _pick("Industry", INDUSTRIES),
        _s("Country", 80),
        _ref("OwnerId", "User", "Group", rel="Owner", nillable=False, default="(current user)"),
    ]
    if country_picklists:
        lead.append(_pick("CountryCode", (), length=10))
    opportunity = [
        _s("Name", 120, nillable=False),
        _ref("AccountId", "Account", rel="Account"),
        _pick("StageName", tuple(s.name for s in stages), restricted=True, nillable=False),
        FieldDef("CloseDate", "date", nillable=False),
        FieldDef("Amount", "currency"),
        FieldDef("Probability", "percent"),
        _ro("IsClosed", "boolean", nillable=False),
        _ro("IsWon", "boolean", nillable=False),
        _ro("ForecastCategory", "picklist"),
        FieldDef("Description", "textarea", length=32000, filterable=False),
        _ref("OwnerId", "User", rel="Owner", nillable=False, default="(current user)"),
        _ref("ContactId", "Contact", rel="Contact"),  # set by the UI when a deal starts on one
    ]
    if loss_reason_field:
        opportunity.append(
            _pick(
                loss_reason_field,
                (
                    "Timing",
                    "Budget",
                    "Competitor",
                    "Missing feature",
                    "No decision",
                    "Price",
                    "Not interested",
                    "Went dark",
                ),
                custom=True,
            )
        )
    if competitor_field:
        opportunity.append(_s(competitor_field, 120, custom=True))
    ocr = [
        _ref("OpportunityId", "Opportunity", rel="Opportunity", nillable=False, updateable=False),
        _ref("ContactId", "Contact", rel="Contact", nillable=False),
        _pick("Role", ROLES),
        _b("IsPrimary"),
    ]
    acr = [
        _ref("AccountId", "Account", rel="Account", nillable=False, updateable=False),
        _ref("ContactId", "Contact", rel="Contact", nillable=False),
        _pick("Role", ROLES),
        _b("IsPrimary"),
    ]
    history = [
        _ref("OpportunityId", "Opportunity", rel="Opportunity", **ro),
        _ro("StageName", "picklist"),
        _ro("Amount", "currency"),
        _ro("CloseDate", "date"),
        _ro("Probability", "percent"),
        _ro("ForecastCategory", "picklist"),
    ]
    task = [
        _s("Subject", 255),
        FieldDef("ActivityDate", "date"),
        _pick("Status", TASK_STATUSES, restricted=True, nillable=False, default="Not Started"),
        _pick(
            "Priority", ("High", "Normal", "Low"), restricted=True, nillable=False, default="Normal"
        ),
        _ro("IsClosed", "boolean", nillable=False),
        _ref("WhoId", "Contact", "Lead", rel="Who"),
        _ref("WhatId", "Opportunity", "Account", "Campaign", rel="What"),
        _ref("AccountId", "Account", rel="Account", **ro),
        _ref("OwnerId", "User", rel="Owner", nillable=False, default="(current user)"),
        FieldDef("Description", "textarea", length=32000, filterable=False),
        _pick("TaskSubtype", TASK_SUBTYPES, restricted=True, updateable=False),
        _pick("Type", ("Call", "Email", "Meeting", "Other")),
    ]
    if task_external_id:
        task.append(_s(task_external_id, 80, external_id=True, unique=True, custom=True))
    campaign_member = [
        _ref("CampaignId", "Campaign", rel="Campaign", nillable=False, updateable=False),
        _ref("ContactId", "Contact", rel="Contact", updateable=False),
        _ref("LeadId", "Lead", rel="Lead", updateable=False),
        _s("Status", 40),
        _ro("HasResponded", "boolean", nillable=False),
    ]
    objects = [
        _obj(
            "User",
            "005",
            [
                _s("Name", 121),
                _s("Email", 128),
                _b("IsActive", True),
                _pick("TimeZoneSidKey", (), nillable=False),
            ],
            createable=False,
        ),
        _obj("Group", "00G", [_s("Name", 40), _pick("Type", ("Queue", "Regular"))]),
        _obj(
            "Account",
            "001",
            account,
            children={
                "Contacts": ChildRelationship("Contacts", "Contact", "AccountId"),
                "Opportunities": ChildRelationship("Opportunities", "Opportunity", "AccountId"),
            },
        ),
        _obj(
            "Contact",
            "003",
            contact,
            children={
                "OpportunityContactRoles": ChildRelationship(
                    "OpportunityContactRoles", "OpportunityContactRole", "ContactId"
                ),
                "Tasks": ChildRelationship("Tasks", "Task", "WhoId"),
                "CampaignMembers": ChildRelationship(
                    "CampaignMembers", "CampaignMember", "ContactId"
                ),
            },
        ),
        _obj(
            "Lead",
            "00Q",
            lead,
            children={
                "Tasks": ChildRelationship("Tasks", "Task", "WhoId"),
                "CampaignMembers": ChildRelationship("CampaignMembers", "CampaignMember", "LeadId"),
            },
        ),
        _obj(
            "Opportunity",
            "006",
            opportunity,
            children={
                "OpportunityContactRoles": ChildRelationship(
                    "OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"
                ),
                "OpportunityHistories": ChildRelationship(
                    "OpportunityHistories", "OpportunityHistory", "OpportunityId"
                ),
                "Tasks": ChildRelationship("Tasks", "Task", "WhatId"),
            },
        ),
        _obj("OpportunityContactRole", "00K", ocr),
        _obj("AccountContactRole", "02Z", acr),
        _obj("OpportunityHistory", "008", history, createable=False),
        _obj("Task", "00T", task),
        _obj(
            "Campaign",
            "701",
            [_s("Name", 80, nillable=False), _b("IsActive", True)],
            children={
                "CampaignMembers": ChildRelationship(
                    "CampaignMembers", "CampaignMember", "CampaignId"
                )
            },
        ),
        _obj("CampaignMember", "00v", campaign_member),
        _obj(
            "CampaignMemberStatus",
            "01Y",
            [
                _ref("CampaignId", "Campaign", rel="Campaign", nillable=False),
                _s("Label", 765, nillable=False),
                _b("IsDefault"),
                _b("HasResponded"),
            ],
        ),
        _obj(
            "LeadStatus",
            "01J",
            [
                _s("ApiName", **ro),
                _s("MasterLabel", **ro),
                _ro("IsConverted", "boolean"),
                _ro("IsDefault", "boolean"),
                _ro("SortOrder", "int"),
            ],
            createable=False,
        ),
        _obj(
            "OpportunityStage",
            "01J",
            [
                _s("ApiName", **ro),
                _s("MasterLabel", **ro),
                _ro("IsClosed", "boolean"),
                _ro("IsWon", "boolean"),
                _s("ForecastCategory", **ro),
                _ro("DefaultProbability", "percent"),
            ],
            createable=False,
        ),
    ]
    return {o.name: o for o in objects}


def without_field(schema: dict[str, ObjectDef], sobject: str, name: str) -> None:
    """Drop a field (e.g. the external-ID field an org has not created yet)."""
    obj = schema[sobject]
    obj.fields.pop(name, None)
    obj.reindex()


__all__ = [
    "DEFAULT_STAGES",
    "ChildRelationship",
    "FieldDef",
    "ObjectDef",
    "Stage",
    "build_schema",
    "without_field",
]
