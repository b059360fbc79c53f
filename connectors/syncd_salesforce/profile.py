"""What the connector must know about an org before it queries it, fetched in one round-trip.

Orgs differ: country picklists add BillingCountryCode, multi-currency adds CurrencyIsoCode, the
loss-reason field is custom, lead statuses are org-defined, the external-ID field on Task may
not exist yet. Describes of the objects used, the LeadStatus values and the users' time zones
come from a single `composite/batch` call, cached for the connector's life; the Source adds
its first-backfill COUNT() queries to the same call.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncd.connectors import ConfigError
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.errors import error_code

DESCRIBED = ("Opportunity", "Account", "Contact", "Lead", "Task")
LEAD_STATUS_SOQL = "SELECT ApiName, MasterLabel, IsConverted FROM LeadStatus"
USERS_SOQL = "SELECT Id, TimeZoneSidKey FROM User WHERE IsActive = true"


@dataclass(frozen=True)
class TaskKeyField:
    name: str
    exists: bool
    external_id: bool
    updateable: bool


@dataclass(frozen=True)
class OrgProfile:
    fields: Mapping[str, frozenset[str]]  # object -> its field names
    task_key: TaskKeyField
    lead_statuses: tuple[str, ...]  # API names, as Lead.Status holds them
    converted_statuses: frozenset[str]
    timezones: Mapping[str, str]  # active user id -> IANA time zone

    def has(self, sobject: str, field: str) -> bool:
        return field in self.fields.get(sobject, frozenset())

    def optional(self, sobject: str, *names: str) -> list[str]:
        """Those of `names` the object has (org-dependent standard fields)."""
        return [n for n in names if self.has(sobject, n)]


class OrgFacts:
    """The cached profile of one org; thread-safe, loaded on first use."""

    def __init__(self, client: SalesforceClient, external_id_field: str):
        self._client = client
        self._key_field = external_id_field
        self._profile: OrgProfile | None = None
        self._lock = threading.Lock()

    def profile(self) -> OrgProfile:
        return self.load()[0]

    def load(self, counts: Mapping[str, str] | None = None) -> tuple[OrgProfile, dict[str, int]]:
        """The profile, plus the totalSize of each `counts` query, in one call at most."""
        counts = dict(counts or {})
        with self._lock:
            urls: list[str] = []
            if self._profile is None:
                urls += [f"sobjects/{name}/describe" for name in DESCRIBED]
                urls += [SalesforceClient.query_url(LEAD_STATUS_SOQL)]
                urls += [SalesforceClient.query_url(USERS_SOQL)]
            urls += [SalesforceClient.query_url(soql) for soql in counts.values()]
            if not urls:
                assert self._profile is not None
                return self._profile, {}
            answers = self._client.batch(urls, what="org.profile")
            for url, (status, body) in zip(urls, answers, strict=True):
                if status >= 400:
                    code = error_code(body) or str(status)
                    raise ConfigError(f"salesforce: {url.split('?')[0]} refused ({code})")
            if self._profile is None:
                self._profile = self._parse(answers[: len(DESCRIBED) + 2])
                answers = answers[len(DESCRIBED) + 2 :]
            sizes = {
                name: int(body["totalSize"])
                for name, (_, body) in zip(counts, answers, strict=True)
            }
            return self._profile, sizes

    def _parse(self, answers: list[tuple[int, Any]]) -> OrgProfile:
        describes = [body for _, body in answers[: len(DESCRIBED)]]
        fields = {d["name"]: frozenset(f["name"] for f in d["fields"]) for d in describes}
        task = next(d for d in describes if d["name"] == "Task")
        key = next((f for f in task["fields"] if f["name"] == self._key_field), None)
        task_key = TaskKeyField(
            name=self._key_field,
            exists=key is not None,
            external_id=bool(key and key.get("externalId")),
            updateable=bool(key and key.get("updateable")),
        )
        statuses = answers[len(DESCRIBED)][1]["records"]
        users = self._all_records(answers[len(DESCRIBED) + 1][1])
        return OrgProfile(
            fields=fields,
            task_key=task_key,
            lead_statuses=tuple(s.get("ApiName") or s["MasterLabel"] for s in statuses),
            converted_statuses=frozenset(
                s.get("ApiName") or s["MasterLabel"] for s in statuses if s.get("IsConverted")
            ),
            timezones={u["Id"]: u.get("TimeZoneSidKey") or "UTC" for u in users},
        )

    def _all_records(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        records = list(first["records"])
        page = first
        while not page.get("done", True):
            page = self._client.query_more(page["nextRecordsUrl"], what="org.users")
            records.extend(page["records"])
        return records
