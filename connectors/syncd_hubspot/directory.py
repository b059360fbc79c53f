"""Looking people up at decision and write time, always in batches.

Opt-out state is `hs_email_optout` (unsubscribed from all e-mail, read with the contact) plus,
when `subscription_id` is set, that subscription's status from the communication-preferences
batch read. "Active" means an open deal (its stage is not a closed stage of its pipeline) or an
open task that syncd did not create itself (no `syncd_key`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from syncd.model import Account, AccountRef, Channel, Owner, Prospect, ProspectRef
from syncd_hubspot.crm import OBJECT_BATCH, Crm, Props, chunked, in_filter_chunks, unique
from syncd_hubspot.people import (
    COMPANY_PROPERTIES,
    account_from,
    contact_properties,
    prospect_from,
)
from syncd_hubspot.settings import HubSpotSettings

SYNCD_KEY = "syncd_key"
STAGES_TTL_S = 3600.0
OWNERS_TTL_S = 3600.0
OWNERS_MIN_REFRESH_S = 60.0  # an unknown id re-reads the owners at most this often
PREFERENCES_API = "communication_preferences.status_api"


class HubSpotDirectory:
    def __init__(
        self,
        crm: Crm,
        settings: HubSpotSettings,
        shard: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._crm = crm
        self._settings = settings
        self._shard = shard
        self._clock = clock
        self._contact_props = contact_properties(settings.channel_optout_properties)
        self._closed: set[str] = set()
        self._closed_at = float("-inf")
        self._active_owners: set[str] = set()
        self._owners_at = float("-inf")

    def _ours(self, refs: Iterable[ProspectRef]) -> list[str]:
        return unique(r.id for r in refs if r.system == self._shard and r.kind == "contact")

    # --- Directory -----------------------------------------------------------------------

    def prospects(self, refs: Sequence[ProspectRef]) -> dict[ProspectRef, Prospect]:
        contacts = self._crm.batch_read("contacts", self._ours(refs), self._contact_props)
        people = self._people(contacts)
        return {p.ref: p for p in people}

    def absent_means_deleted(self, ref: ProspectRef) -> bool:
        """A contact of this portal that HubSpot's batch read answered OBJECT_NOT_FOUND for
        (deleted, or merged into another); a contact merely missing from a garbled answer is
        not vouched for."""
        return (
            ref.system == self._shard
            and ref.kind == "contact"
            and ref.id in self._crm.not_found.get("contacts", ())
        )

    def colleagues(self, accounts: Sequence[AccountRef]) -> dict[AccountRef, list[Prospect]]:
        ids = unique(a.id for a in accounts if a.system == self._shard)
        links = self._crm.associations("companies", "contacts", ids)
        contacts = self._crm.batch_read(
            "contacts", [c for cs in links.values() for c in cs], self._contact_props
        )
        people = {p.ref.id: p for p in self._people(contacts, companies=ids)}
        return {
            AccountRef(self._shard, cid): [people[c] for c in links.get(cid, []) if c in people]
            for cid in ids
        }

    def active(self, refs: Sequence[ProspectRef]) -> set[ProspectRef]:
        ids = self._ours(refs)
        deals = self._crm.associations("contacts", "deals", ids)
        tasks = self._crm.associations("contacts", "tasks", ids)
        closed = self._closed_stages()
        deal_props = self._crm.batch_read(
            "deals", [d for ds in deals.values() for d in ds], ["dealstage"]
        )
        open_deals = {d for d, p in deal_props.items() if p.get("dealstage") not in closed}
        task_props = self._crm.batch_read(
            "tasks", [t for ts in tasks.values() for t in ts], ["hs_task_status", SYNCD_KEY]
        )
        open_tasks = {
            t
            for t, p in task_props.items()
            if p.get("hs_task_status") != "COMPLETED" and not p.get(SYNCD_KEY)
        }
        return {
            ProspectRef(self._shard, "contact", cid)
            for cid in ids
            if open_deals & set(deals.get(cid, [])) or open_tasks & set(tasks.get(cid, []))
        }

    def find_by_email(self, emails: Sequence[str]) -> dict[str, Prospect]:
        # IN on a string property only matches lower-case values.
        wanted = [e.strip().lower() for e in emails if e and e.strip()]
        contacts: dict[str, Props] = {}
        for chunk in in_filter_chunks(wanted):
            flt = {"propertyName": "email", "operator": "IN", "values": chunk}
            contacts.update(self._crm.search_all("contacts", [flt], self._contact_props))
        found: dict[str, Prospect] = {}
        for person in sorted(self._people(contacts), key=lambda p: int(p.ref.id)):
            if person.email:
                found.setdefault(person.email.lower(), person)
        return found

    # --- helpers -------------------------------------------------------------------------

    def _people(self, contacts: dict[str, Props], companies: Iterable[str] = ()) -> list[Prospect]:
        company_ids = [
            *companies,
            *(str(p.get("associatedcompanyid") or "") for p in contacts.values()),
        ]
        accounts: dict[str, Account] = {
            cid: account_from(self._shard, cid, p)
            for cid, p in self._crm.batch_read("companies", company_ids, COMPANY_PROPERTIES).items()
        }
        unsubscribed = self._unsubscribed(
            [str(p["email"]) for p in contacts.values() if p.get("email")]
        )
        return [
            prospect_from(
                self._shard,
                cid,
                props,
                account=accounts.get(str(props.get("associatedcompanyid") or "")),
                channel_properties=self._settings.channel_optout_properties,
                extra_opt_outs=frozenset({Channel.EMAIL})
                if str(props.get("email") or "").lower() in unsubscribed
                else frozenset(),
            )
            for cid, props in contacts.items()
        ]

    def _unsubscribed(self, emails: Sequence[str]) -> set[str]:
        """Addresses not subscribed to the configured subscription type (lower-cased)."""
        subscription = self._settings.subscription_id
        if not subscription or not emails:
            return set()
        out: set[str] = set()
        for chunk in chunked(unique(emails), OBJECT_BATCH):
            answer, _ = self._crm.api.raw(
                "preferences.batch_read",
                PREFERENCES_API,
                "POST",
                "/communication-preferences/v4/statuses/batch/read",
                body={"inputs": list(chunk)},
                query=[("channel", "EMAIL")],
            )
            for result in _results(answer):
                for status in result.get("statuses") or []:
                    if (
                        str(status.get("subscriptionId")) == subscription
                        and status.get("status") == "NOT_SUBSCRIBED"
                    ):
                        out.add(str(result.get("subscriberIdString", "")).lower())
        return out

    def owners(self, ids: Sequence[str]) -> dict[str, Owner]:
        """The active owners among these ids (a deactivated user is archived: absent), with
        the time zone `owner_timezones` gives them. The list is read at most every
        OWNERS_TTL_S, and again at once when an id is not in it (a new rep)."""
        age = self._clock() - self._owners_at
        missing = not set(ids) <= self._active_owners
        if ids and (age > OWNERS_TTL_S or (missing and age > OWNERS_MIN_REFRESH_S)):
            self._active_owners = set(self._crm.owners())
            self._owners_at = self._clock()
        zones = self._settings.owner_timezones
        return {i: Owner(i, zones.get(i, "UTC")) for i in ids if i in self._active_owners}

    def _closed_stages(self) -> set[str]:
        if self._clock() - self._closed_at > STAGES_TTL_S:
            self._closed = {s.stage_id for s in self._crm.deal_stages() if s.closed}
            self._closed_at = self._clock()
        return self._closed


def _results(answer: Any) -> list[dict[str, Any]]:
    if not isinstance(answer, dict):
        return []
    return [r for r in answer.get("results") or [] if isinstance(r, dict)]
