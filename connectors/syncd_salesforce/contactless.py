"""Lost opportunities without contact roles: find the person at the account, in batches.

Many orgs never fill in contact roles. The mapper already used the opportunity's own
`ContactId` (read with the opportunity, no extra call); what is left is marked
`ContactFallback.ACCOUNT_PLAN` with the account as its subject. For those, once per page and
in the configured order: the account's most recently active contact (`LastActivityDate`
within `recent_activity_days`), then its primary contact (`AccountContactRole.IsPrimary`), one
query each for the whole page. Whoever is found becomes the event's prospect; the rest stay
account-level plans for the opportunity's owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syncd.model import ContactFallback, Prospect, RejectionEvent
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.directory import ID_CHUNK, chunks
from syncd_salesforce.records import (
    PERSON_FIELDS,
    Fields,
    Mapper,
    Record,
    nested,
    select,
    soql_in,
)
from syncd_salesforce.settings import SalesforceSettings


class ContactlessResolver:
    def __init__(
        self,
        client: SalesforceClient,
        mapper: Mapper,
        fields: Fields,
        settings: SalesforceSettings,
        now: datetime,
    ):
        self._client = client
        self._mapper = mapper
        self._fields = fields
        self._settings = settings
        self._now = now

    def resolve(self, events: list[RejectionEvent]) -> list[RejectionEvent]:
        waiting = {
            e.prospect.account.ref.id: e
            for e in events
            if e.contact_fallback is ContactFallback.ACCOUNT_PLAN
            and e.prospect.account is not None
            and e.prospect.account.ref.id.startswith("001")
        }
        if not waiting:
            return events
        found: dict[str, tuple[Prospect, ContactFallback]] = {}
        for step in self._settings.contactless_fallback:
            todo = [a for a in waiting if a not in found]
            if not todo:
                break
            if step == "recent_activity" and self._fields.profile.has(
                "Contact", "LastActivityDate"
            ):
                people = self._recently_active(todo)
                found.update((a, (p, ContactFallback.RECENT_ACTIVITY)) for a, p in people.items())
            elif step == "primary_contact":
                people = self._primary(todo)
                found.update((a, (p, ContactFallback.PRIMARY_CONTACT)) for a, p in people.items())
        out = []
        for event in events:
            account = event.prospect.account
            hit = found.get(account.ref.id) if account is not None else None
            if event.contact_fallback is ContactFallback.ACCOUNT_PLAN and hit is not None:
                person, how = hit
                person = replace(person, account=account, owner=event.prospect.owner)
                event = replace(event, prospect=person, contact_fallback=how)
            out.append(event)
        return out

    def _recently_active(self, accounts: Sequence[str]) -> dict[str, Prospect]:
        since = (self._now - timedelta(days=self._settings.recent_activity_days)).astimezone(UTC)
        found: dict[str, Prospect] = {}
        for chunk in chunks(accounts, ID_CHUNK):
            soql = select(
                self._fields.contact(),
                "Contact",
                [f"AccountId IN {soql_in(chunk)}", f"LastActivityDate >= {since.date()}"],
                order="AccountId, LastActivityDate DESC, Id",
            )
            for record in self._client.query_all(soql, what="read.contactless.recent"):
                account = str(record["AccountId"])
                if account not in found:  # rows come most recent first per account
                    found[account] = self._mapper.contact_record(record)
        return found

    def _primary(self, accounts: Sequence[str]) -> dict[str, Prospect]:
        contact = [f"Contact.{n}" for n in (*PERSON_FIELDS, "Department", "OwnerId")]
        found: dict[str, Prospect] = {}
        for chunk in chunks(accounts, ID_CHUNK):
            soql = select(
                ["AccountId", "ContactId", *contact],
                "AccountContactRole",
                [f"AccountId IN {soql_in(chunk)}", "IsPrimary = true"],
            )
            for record in self._client.query_all(soql, what="read.contactless.primary"):
                person: Record = nested(record, "Contact") or {}
                found[str(record["AccountId"])] = self._mapper.contact(
                    record["ContactId"], person, None, None
                )
        return found
