"""Looks people up in Salesforce for the policy, always in batches (IN lists), never one by one.

IN lists are cut into chunks so the query string stays well below the REST API's URI limit,
and a look-up's chunk queries travel together in `composite/batch` calls (25 a call).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from syncd.model import AccountRef, Owner, Prospect, ProspectRef
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.profile import OrgFacts
from syncd_salesforce.records import (
    QUEUE_PREFIX,
    Fields,
    Mapper,
    Record,
    flag,
    nested,
    select,
    soql_in,
    text,
)
from syncd_salesforce.settings import SalesforceSettings

ID_CHUNK = 200  # 18-character ids: about 6 KB of query string per chunk
EMAIL_CHUNK = 100
USER_PREFIX = "005"
TASK_MARKER = "[syncd:"  # the subject marker of tasks syncd created without an external id


def chunks(values: Sequence[str], size: int) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class SalesforceDirectory:
    def __init__(
        self,
        client: SalesforceClient,
        facts: OrgFacts,
        settings: SalesforceSettings,
        shard: str,
    ):
        self._client = client
        self._facts = facts
        self._settings = settings
        self._shard = shard
        self._users: dict[str, Owner] = {}  # users outside the profile's active set, as read

    def _tools(self) -> tuple[Mapper, Fields]:
        profile = self._facts.profile()
        return Mapper(self._shard, self._settings, profile), Fields(self._settings, profile)

    def _ids(self, refs: Sequence[ProspectRef], kind: str) -> list[str]:
        return [r.id for r in refs if r.system == self._shard and r.kind == kind]

    def _query(self, soql: str, what: str) -> list[Record]:
        return self._client.query_all(soql, what=what)

    def prospects(self, refs: Sequence[ProspectRef]) -> dict[ProspectRef, Prospect]:
        mapper, fields = self._tools()
        contacts = [
            select(fields.contact(), "Contact", [f"Id IN {soql_in(ids)}"])
            for ids in chunks(self._ids(refs, "contact"), ID_CHUNK)
        ]
        leads = [
            select(fields.lead(), "Lead", [f"Id IN {soql_in(ids)}"])
            for ids in chunks(self._ids(refs, "lead"), ID_CHUNK)
        ]
        answers = self._client.query_many([*contacts, *leads], what="directory.prospects")
        found: dict[ProspectRef, Prospect] = {}
        for n, records in enumerate(answers):
            for record in records:
                if n < len(contacts):
                    prospect = mapper.contact_record(record)
                else:
                    prospect = mapper.lead_prospect(record)
                found[prospect.ref] = prospect
        return found

    def absent_means_deleted(self, ref: ProspectRef) -> bool:
        """`prospects` reads every contact and lead of this org by id: one it did not
        return was deleted or merged away (a converted lead is still returned)."""
        return ref.system == self._shard and ref.kind in ("contact", "lead")

    def owners(self, ids: Sequence[str]) -> dict[str, Owner]:
        """Active users come from the org profile (no call); users it does not list (hired
        or deactivated since it was loaded) are read in one query and remembered; queues
        (00G) are taken as they are (a task for one goes to `fallback_owner_id`)."""
        timezones = self._facts.profile().timezones
        found: dict[str, Owner] = {}
        unknown = []
        for uid in ids:
            if uid.startswith(QUEUE_PREFIX):
                found[uid] = Owner(uid, "UTC", is_queue=True)
            elif uid in timezones:
                found[uid] = Owner(uid, timezones[uid])
            elif uid in self._users:
                found[uid] = self._users[uid]
            elif uid.startswith(USER_PREFIX):
                unknown.append(uid)
        for chunk in chunks(unknown, ID_CHUNK):
            soql = select(["Id", "TimeZoneSidKey", "IsActive"], "User", [f"Id IN {soql_in(chunk)}"])
            for record in self._query(soql, "directory.owners"):
                uid = str(record["Id"])
                owner = Owner(
                    uid,
                    text(record.get("TimeZoneSidKey")) or "UTC",
                    active=flag(record.get("IsActive")),
                )
                self._users[uid] = found[uid] = owner
        return found

    def colleagues(self, accounts: Sequence[AccountRef]) -> dict[AccountRef, list[Prospect]]:
        mapper, fields = self._tools()
        ids = [a.id for a in accounts if a.system == self._shard and a.id.startswith("001")]
        found: dict[AccountRef, list[Prospect]] = {a: [] for a in accounts}
        soqls = [
            select(
                fields.contact(),
                "Contact",
                [f"AccountId IN {soql_in(chunk)}"],
                order="AccountId, Id",
            )
            for chunk in chunks(ids, ID_CHUNK)
        ]
        for records in self._client.query_many(soqls, what="directory.colleagues"):
            for record in records:
                ref = AccountRef(self._shard, str(record["AccountId"]))
                found.setdefault(ref, []).append(mapper.contact_record(record))
        return found

    def active(self, refs: Sequence[ProspectRef]) -> set[ProspectRef]:
        """Open opportunities at the contact's account with the contact in a role, or open
        tasks on the person that syncd did not create."""
        roles = [
            select(
                ["ContactId", "Contact.AccountId", "Opportunity.AccountId"],
                "OpportunityContactRole",
                [f"ContactId IN {soql_in(ids)}", "Opportunity.IsClosed = false"],
            )
            for ids in chunks(self._ids(refs, "contact"), ID_CHUNK)
        ]
        people = self._ids(refs, "contact") + self._ids(refs, "lead")
        tasks = [
            select(
                ["WhoId"],
                "Task",
                [f"WhoId IN {soql_in(ids)}", "IsClosed = false", *self._not_ours()],
            )
            for ids in chunks(people, ID_CHUNK)
        ]
        answers = self._client.query_many([*roles, *tasks], what="directory.active")
        active: set[str] = set()
        for role in (r for records in answers[: len(roles)] for r in records):
            contact_account = text((nested(role, "Contact") or {}).get("AccountId"))
            deal_account = text((nested(role, "Opportunity") or {}).get("AccountId"))
            if contact_account is None or contact_account == deal_account:
                active.add(str(role["ContactId"]))
        for records in answers[len(roles) :]:
            active.update(str(t["WhoId"]) for t in records)
        return {r for r in refs if r.system == self._shard and r.id in active}

    def _not_ours(self) -> list[str]:
        key = self._facts.profile().task_key
        if key.exists:
            return [f"{key.name} = null"]
        return [f"(NOT Subject LIKE '%{TASK_MARKER}%')"]

    def find_by_email(self, emails: Sequence[str]) -> dict[str, Prospect]:
        mapper, fields = self._tools()
        wanted = [e.strip().lower() for e in emails if e and "@" in e]
        found: dict[str, Prospect] = {}
        for chunk in chunks(wanted, EMAIL_CHUNK):
            soql = select(
                fields.contact(),
                "Contact",
                [f"Email IN {soql_in(chunk)}"],
                order="LastModifiedDate DESC",
            )
            for record in self._query(soql, "directory.find_by_email"):
                found.setdefault(str(record["Email"]).lower(), mapper.contact_record(record))
        missing = [e for e in wanted if e not in found]
        for chunk in chunks(missing, EMAIL_CHUNK):
            soql = select(
                fields.lead(),
                "Lead",
                [f"Email IN {soql_in(chunk)}", "IsConverted = false"],
                order="LastModifiedDate DESC",
            )
            for record in self._query(soql, "directory.find_by_email"):
                found.setdefault(str(record["Email"]).lower(), mapper.lead_prospect(record))
        return found
