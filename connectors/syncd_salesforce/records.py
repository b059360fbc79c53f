"""What the connector reads from Salesforce and how it becomes syncd's model.

The field lists and the mapping live together so they cannot drift apart. Records arrive in
the REST shape (nested relationship objects, sub-query results under the relationship name);
Bulk API 2.0 rows are rebuilt into that shape by `backfill.py`, with every value a string,
so the coercers below accept both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from syncd.model import (
    ACCOUNT_KIND,
    Account,
    AccountRef,
    Channel,
    ContactFallback,
    Owner,
    Prospect,
    ProspectRef,
    RejectionEvent,
    SourceKind,
)
from syncd_salesforce.profile import OrgProfile
from syncd_salesforce.settings import SalesforceSettings

Record = dict[str, Any]
QUEUE_PREFIX = "00G"
ACCOUNT_FIELDS = (
    "Name",
    "NumberOfEmployees",
    "AnnualRevenue",
    "Industry",
    "BillingCountry",
    "OwnerId",
)
PERSON_FIELDS = ("FirstName", "LastName", "Email", "Title", "HasOptedOutOfEmail", "DoNotCall")


# --- values ---------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def integer(value: Any) -> int | None:
    as_float = number(value)
    return None if as_float is None else int(as_float)


def parse_timestamp(value: Any) -> datetime | None:
    """REST (`…000+0000`) and Bulk (`…000Z`) datetimes as aware UTC datetimes."""
    raw = text(value)
    if raw is None:
        return None
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    elif len(raw) > 5 and raw[-5] in "+-" and raw[-3] != ":":
        raw = f"{raw[:-2]}:{raw[-2:]}"
    return datetime.fromisoformat(raw).astimezone(UTC)


def position(value: Any) -> str:
    """The cursor form of a SystemModstamp: fixed-width UTC, so strings sort as times do."""
    raw = text(value)
    if raw is not None and len(raw) == 28 and raw.endswith("+0000"):
        return raw[:23] + "Z"  # REST: 2024-05-01T12:00:00.000+0000
    if raw is not None and len(raw) == 24 and raw.endswith("Z"):
        return raw  # Bulk API 2.0: already 2024-05-01T12:00:00.000Z
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError("record without SystemModstamp")
    return soql_datetime(moment)


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal at millisecond precision (SystemModstamp's own)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def soql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def soql_in(values: Sequence[str]) -> str:
    return "(" + ", ".join(soql_string(v) for v in values) + ")"


def select(
    fields: Sequence[str],
    sobject: str,
    where: Sequence[str] = (),
    order: str = "",
    limit: int | None = None,
) -> str:
    """A SOQL statement; any value inside `where` must come from the soql_* renderers above."""
    # SOQL for the REST API, not SQL: names come from the schema and the settings, values
    # are rendered by soql_string / soql_in / soql_datetime.
    statement = f"SELECT {', '.join(fields)} FROM {sobject}"  # noqa: S608
    if where:
        statement += " WHERE " + " AND ".join(where)
    if order:
        statement += f" ORDER BY {order}"
    if limit is not None:
        statement += f" LIMIT {limit}"
    return statement


def nested(record: Record | None, name: str) -> Record | None:
    """A relationship object, or None when the reference is empty (REST null, Bulk blanks)."""
    value = record.get(name) if record else None
    if not isinstance(value, dict):
        return None
    for item in value.values():
        if item is not None and item != "":
            return value
    return None


def children(record: Record, relationship: str) -> list[Record]:
    value = record.get(relationship)
    return list(value.get("records", [])) if isinstance(value, dict) else []


# --- what is read -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fields:
    """The field lists of one org (its optional fields included only when it has them)."""

    settings: SalesforceSettings
    profile: OrgProfile

    def account(self, prefix: str) -> list[str]:
        names = [*ACCOUNT_FIELDS, *self.profile.optional("Account", "BillingCountryCode")]
        return [f"{prefix}{n}" for n in names]

    def opportunity(self) -> list[str]:
        s = self.settings
        names = ["Id", "Name", "StageName", "Amount", "CloseDate", "OwnerId", "AccountId"]
        names += ["SystemModstamp", "LastModifiedDate"]
        names += self.profile.optional("Opportunity", "CurrencyIsoCode")
        names += [f for f in (s.loss_reason_field, s.competitor_field) if f]
        if "opportunity_contact" in s.contactless_fallback and self.profile.has(
            "Opportunity", "ContactId"
        ):  # the deal's own contact, read with it: the first fallback costs no call
            names += ["ContactId", *(f"Contact.{n}" for n in (*PERSON_FIELDS, "Department"))]
        return names + self.account("Account.")

    def role(self) -> list[str]:
        """Contact-role fields, relative to OpportunityContactRole."""
        contact = [f"Contact.{n}" for n in (*PERSON_FIELDS, "Department", "OwnerId")]
        return ["Id", "ContactId", "Role", "IsPrimary", "CreatedDate", *contact]

    def history(self) -> list[str]:
        return ["Id", "StageName", "CreatedDate"]

    def lead(self) -> list[str]:
        names = ["Id", *PERSON_FIELDS, "Company", "Status", "OwnerId", "SystemModstamp"]
        names += ["LastModifiedDate", "NumberOfEmployees", "AnnualRevenue", "Industry", "Country"]
        return names + self.profile.optional("Lead", "CountryCode")

    def contact(self) -> list[str]:
        names = ["Id", *PERSON_FIELDS, "Department", "OwnerId", "AccountId"]
        return names + self.account("Account.")


# --- mapping ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapper:
    shard: str
    settings: SalesforceSettings
    profile: OrgProfile

    def owner(self, owner_id: Any) -> Owner | None:
        oid = text(owner_id)
        if oid is None:
            return None
        return Owner(
            id=oid,
            timezone=self.profile.timezones.get(oid, "UTC"),
            is_queue=oid.startswith(QUEUE_PREFIX),
        )

    def account(self, account_id: Any, record: Record | None) -> Account | None:
        aid = text(account_id)
        if aid is None or record is None:
            return None
        return Account(
            ref=AccountRef(self.shard, aid),
            name=text(record.get("Name")),
            employees=integer(record.get("NumberOfEmployees")),
            annual_revenue=number(record.get("AnnualRevenue")),
            industry=text(record.get("Industry")),
            country=text(record.get("BillingCountryCode")) or text(record.get("BillingCountry")),
            owner_id=text(record.get("OwnerId")),
        )

    @staticmethod
    def opted_out(record: Record) -> frozenset[Channel]:
        channels = set()
        if flag(record.get("HasOptedOutOfEmail")):
            channels.add(Channel.EMAIL)
        if flag(record.get("DoNotCall")):
            channels.add(Channel.PHONE)
        return frozenset(channels)

    def contact(
        self, contact_id: Any, record: Record, account: Account | None, owner: Owner | None
    ) -> Prospect:
        names = (text(record.get("FirstName")), text(record.get("LastName")))
        return Prospect(
            ref=ProspectRef(self.shard, "contact", str(contact_id)),
            account=account,
            owner=owner,
            email=text(record.get("Email")),
            name=" ".join(n for n in names if n) or None,
            title=text(record.get("Title")),
            department=text(record.get("Department")),
            opted_out=self.opted_out(record),
        )

    def contact_record(self, record: Record) -> Prospect:
        """A Contact row from the directory queries (account fields nested)."""
        account = self.account(record.get("AccountId"), nested(record, "Account"))
        return self.contact(record["Id"], record, account, self.owner(record.get("OwnerId")))

    def lead_prospect(self, record: Record) -> Prospect:
        lead_id = str(record["Id"])
        company = Account(
            # A lead has no account: its claimed company travels on an Account keyed by the
            # lead itself, so the ICP rules see the firmographics.
            ref=AccountRef(self.shard, lead_id),
            name=text(record.get("Company")),
            employees=integer(record.get("NumberOfEmployees")),
            annual_revenue=number(record.get("AnnualRevenue")),
            industry=text(record.get("Industry")),
            country=text(record.get("CountryCode")) or text(record.get("Country")),
        )
        names = (text(record.get("FirstName")), text(record.get("LastName")))
        return Prospect(
            ref=ProspectRef(self.shard, "lead", lead_id),
            account=company,
            owner=self.owner(record.get("OwnerId")),
            email=text(record.get("Email")),
            name=" ".join(n for n in names if n) or None,
            title=text(record.get("Title")),
            opted_out=self.opted_out(record),
        )

    def opportunity(self, record: Record) -> RejectionEvent:
        """One event per closed-lost opportunity, about its primary contact role. Without
        contact roles: the opportunity's own contact, else the account itself, marked for
        the source to look for a person at the account (`contactless.py`)."""
        roles = children(record, "OpportunityContactRoles")
        account = self.account(record.get("AccountId"), nested(record, "Account"))
        owner = self.owner(record.get("OwnerId"))
        people = [
            self.contact(r["ContactId"], nested(r, "Contact") or {}, account, owner)
            for r in sorted(roles, key=lambda r: not flag(r.get("IsPrimary")))
        ]
        fallback = None
        if not people:
            own = nested(record, "Contact")
            if own is not None and text(record.get("ContactId")):
                people = [self.contact(record["ContactId"], own, account, owner)]
                fallback = ContactFallback.OPPORTUNITY_CONTACT
            else:
                people = [self.account_subject(str(record["Id"]), account, owner)]
                fallback = ContactFallback.ACCOUNT_PLAN
        stage = text(record.get("StageName"))
        stage_before, lost_at = infer_loss(children(record, "OpportunityHistories"), stage)
        reason_raw = text(record.get(self.settings.loss_reason_field or "")) or None
        competitor_field = self.settings.competitor_field
        return RejectionEvent(
            event_id=f"sf:opp:{record['Id']}",
            source=SourceKind.OPPORTUNITY,
            occurred_at=lost_at or _close_date(record) or _modstamp(record),
            prospect=people[0],
            position=position(record["SystemModstamp"]),
            reason_raw=reason_raw,
            reason=self.settings.loss_reasons.get(reason_raw) if reason_raw else None,
            competitor=text(record.get(competitor_field)) if competitor_field else None,
            amount=number(record.get("Amount")),
            currency=text(record.get("CurrencyIsoCode")),
            stage=stage_before or stage,
            opportunity_id=str(record["Id"]),
            related=tuple(people[1:]),
            contact_fallback=fallback,
        )

    def account_subject(
        self, opp_id: str, account: Account | None, owner: Owner | None
    ) -> Prospect:
        """The account standing in for a person (an opportunity without one: the deal)."""
        ref = ProspectRef(self.shard, ACCOUNT_KIND, account.ref.id if account else opp_id)
        return Prospect(
            ref=ref, account=account, owner=owner, name=account.name if account else None
        )

    def lead(self, record: Record) -> RejectionEvent | None:
        status = text(record.get("Status"))
        if status is None or status not in self.settings.lead_statuses:
            return None
        return RejectionEvent(
            event_id=f"sf:lead:{record['Id']}:{status}",
            source=SourceKind.LEAD,
            occurred_at=parse_timestamp(record.get("LastModifiedDate")) or _modstamp(record),
            prospect=self.lead_prospect(record),
            position=position(record["SystemModstamp"]),
            reason_raw=status,
            reason=self.settings.lead_statuses[status],
        )


def infer_loss(
    history: list[Record], final_stage: str | None
) -> tuple[str | None, datetime | None]:
    """(the stage reached before the loss, when the loss was recorded) from stage history.

    History rows come newest first; the rows at the final stage lead back to the moment the
    deal moved there, and the first row at another stage is the one it came from.
    """
    lost_at: datetime | None = None
    for row in history:
        stage = text(row.get("StageName"))
        if stage == final_stage:
            lost_at = parse_timestamp(row.get("CreatedDate")) or lost_at
            continue
        return stage, lost_at
    return None, lost_at


def _close_date(record: Record) -> datetime | None:
    raw = text(record.get("CloseDate"))
    if raw is None:
        return None
    day = date.fromisoformat(raw[:10])
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _modstamp(record: Record) -> datetime:
    moment = parse_timestamp(record.get("SystemModstamp"))
    assert moment is not None
    return moment
