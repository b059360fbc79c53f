"""HubSpot contact and company properties -> syncd's Prospect and Account.

The only module that knows which HubSpot property feeds which model field, shared by the
source (people on a lost deal) and the directory (look-ups at decision and write time).
"""

from __future__ import annotations

from collections.abc import Mapping

from syncd.model import Account, AccountRef, Channel, Owner, Prospect, ProspectRef
from syncd_hubspot.crm import Props

CONTACT_PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "jobtitle",
    "hubspot_owner_id",
    "hs_email_optout",
    "associatedcompanyid",
)
COMPANY_PROPERTIES = (
    "name",
    "domain",
    "numberofemployees",
    "annualrevenue",
    "industry",
    "country",
    "hubspot_owner_id",
)


def number(value: str | None) -> float | None:
    """A numeric property's value (None when empty or not a number)."""
    if value in (None, ""):
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def text(value: str | None) -> str | None:
    """A property's value, None when empty."""
    return str(value) if value not in (None, "") else None


def _true(value: str | None) -> bool:
    return str(value).lower() == "true"


def account_from(shard: str, company_id: str, props: Props) -> Account:
    employees = number(props.get("numberofemployees"))
    return Account(
        ref=AccountRef(shard, company_id),
        name=text(props.get("name")),
        employees=int(employees) if employees is not None else None,
        annual_revenue=number(props.get("annualrevenue")),
        industry=text(props.get("industry")),
        country=text(props.get("country")),
        custom={"domain": props["domain"]} if props.get("domain") else {},
        owner_id=text(props.get("hubspot_owner_id")),
    )


def opted_out(props: Props, channel_properties: Mapping[Channel, str]) -> frozenset[Channel]:
    """Channels this contact's own properties opt out of (e-mail: unsubscribed from all)."""
    channels = {Channel.EMAIL} if _true(props.get("hs_email_optout")) else set()
    channels |= {ch for ch, name in channel_properties.items() if _true(props.get(name))}
    return frozenset(channels)


def prospect_from(
    shard: str,
    contact_id: str,
    props: Props,
    *,
    account: Account | None,
    channel_properties: Mapping[Channel, str],
    owner_id: str | None = None,
    extra_opt_outs: frozenset[Channel] = frozenset(),
) -> Prospect:
    """A contact as a prospect; `owner_id` overrides the contact's owner (the deal's owner)."""
    owner = owner_id or text(props.get("hubspot_owner_id"))
    names = [n for n in (text(props.get("firstname")), text(props.get("lastname"))) if n]
    return Prospect(
        ref=ProspectRef(shard, "contact", contact_id),
        account=account,
        owner=Owner(owner) if owner else None,
        email=text(props.get("email")),
        name=" ".join(names) or None,
        title=text(props.get("jobtitle")),
        opted_out=opted_out(props, channel_properties) | extra_opt_outs,
    )


def contact_properties(channel_properties: Mapping[Channel, str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*CONTACT_PROPERTIES, *channel_properties.values()]))
