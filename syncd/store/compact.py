"""Lean row encodings: what a row stores beyond its columns, and nothing twice.

State is kept for every prospect ever seen, so each byte per row is paid tens of thousands of
times. The values here are what a JSON column holds; `store.packed` then compresses them as it
writes the row (schema 10). Each packer here has an unpacker that also reads the rows written
before it (schema 8 and earlier), so nothing needs rewriting on upgrade:

- a touch's JSON leaves out `due` and `seq` (columns of its row) and, when its brief is the
  standard one, stores only the "why now" sentence: the heading and the rule are put back;
- a plan's shared brief is deflated against a preset dictionary of the brief's own phrases
  and the plan's prospect key and opportunity id, which the row carries anyway (a zlib
  stream names its dictionary by checksum, so older streams, made without, still read);
- a decision's audit rules are `[rule_id, inputs]` pairs (`[rule_id]` without inputs), not
  `{"rule_id": …, "inputs": …}` objects, and its plan id is "#<generation>" when the plan is
  the subject's own;
- an event's payload leaves out its id, shard and person (columns of its row) and the
  source's cursor position (the cursor row keeps that);
- a prospect's snapshot leaves out its own ref and its account's (its row's key and
  account key).
"""

from __future__ import annotations

import zlib
from typing import Any

WHY_HEAD = "WHY THIS TOUCH NOW\n"
BRIEF_HEAD_KEY = "+"  # the stored brief is the head only: 1 a whole head, 2 its "why" alone
HEAD_WHOLE = 1
HEAD_WHY = 2

# Phrases of policy.brief's shared part. Never edit: stored briefs name this dictionary by
# its checksum (add a new one beside it, and keep this one for decoding).
_BRIEF_PHRASES = (
    "WHO SAID NO\n\nAccount: employees)\nWhen: , closed-lost opportunity , lead status, "
    "e-mail reply\nDeal: stage reached: , amount: \nReason: budget (CRM value: ; competitor: "
    "\nTheir words: “\n\nHISTORY\nEarlier rejections: none — this is their first no.\n"
    "Touches so far: none.\n\nOTHER CONTACTS AT THE ACCOUNT\n; and  more\n"
    "Suggested entry points: \n\nANGLE\n- Release “ answers their reason. Proof: - Cross-sell, "
    "not offered to this account yet: - Case study: a customer in  of about  employees.\n"
)


def _brief_dictionary(prospect_key: str, context: dict[str, Any]) -> bytes:
    return f"{_BRIEF_PHRASES}[{prospect_key}] {context.get('opportunity_id') or ''}".encode()


def pack_brief(shared: str, prospect_key: str, context: dict[str, Any]) -> bytes | None:
    """A plan's shared brief for `plans.brief` (None when there is none)."""
    if not shared:
        return None
    packer = zlib.compressobj(6, zdict=_brief_dictionary(prospect_key, context))
    return packer.compress(shared.encode()) + packer.flush()


def unpack_brief(
    stored: bytes | None, prospect_key: str = "", context: dict[str, Any] | None = None
) -> str:
    """A plan's shared brief from its column (inverse of pack_brief; also plain zlib)."""
    if not stored:
        return ""
    unpacker = zlib.decompressobj(zdict=_brief_dictionary(prospect_key, context or {}))
    return (unpacker.decompress(stored) + unpacker.flush()).decode()


def pack_touch(row: dict[str, Any], shared: str) -> dict[str, Any]:
    """A touch's encoding (codec.encode) as `touches.touch` stores it beside its due and seq
    columns and its plan's shared brief."""
    del row["due"], row["seq"]
    head, sep, tail = row["brief"].partition("\n\n")
    if not (shared and sep and tail == shared):
        return row
    rule = f" (rule {row['rule_id']})"
    standard = head.startswith(WHY_HEAD) and head.endswith(rule)
    row["brief"] = head[len(WHY_HEAD) : -len(rule)] if standard else head
    row[BRIEF_HEAD_KEY] = HEAD_WHY if standard else HEAD_WHOLE
    return row


def unpack_touch(
    row: dict[str, Any], due: str, seq: int, shared: str | None = None
) -> dict[str, Any]:
    """The touch's encoding again, from its stored JSON and columns; with `shared` (the
    plan's shared brief) its whole brief too, else only its own head."""
    full = dict(row)
    full["due"] = due
    full["seq"] = seq
    marker = full.pop(BRIEF_HEAD_KEY, None)
    if marker == HEAD_WHY:
        full["brief"] = f"{WHY_HEAD}{row['brief']} (rule {row['rule_id']})"
    if marker and shared is not None:
        full["brief"] = f"{full['brief']}\n\n{shared}"
    return full


def pack_plan_id(plan_id: str | None, subject: str) -> str | None:
    """A decision's plan id as its audit row keeps it beside its subject (the prospect)."""
    if plan_id is not None and plan_id.startswith(f"{subject}#"):
        return plan_id[len(subject) :]
    return plan_id


def unpack_plan_id(stored: str | None, subject: str | None) -> str | None:
    """The plan id again (inverse of pack_plan_id; older rows hold it whole)."""
    if stored is not None and stored.startswith("#"):
        return f"{subject}{stored}"
    return stored


_NOTHING: tuple[Any, ...] = (None, [], {})


def pack_rules(rules: list[dict[str, Any]]) -> list[list[Any]]:
    """Audit rule hits (codec.encode of RuleHit) as `[rule_id, inputs]` pairs, without the
    inputs that are empty (the codec leaves those members out anyway)."""
    out: list[list[Any]] = []
    for r in rules:
        inputs = {k: v for k, v in (r.get("inputs") or {}).items() if v not in _NOTHING}
        out.append([r["rule_id"], inputs] if inputs else [r["rule_id"]])
    return out


def unpack_rules(stored: list[Any]) -> list[dict[str, Any]]:
    """`{"rule_id", "inputs"}` hits from an audit row, packed or written before packing."""
    out = []
    for hit in stored:
        if isinstance(hit, list):
            out.append({"rule_id": hit[0], "inputs": hit[1] if len(hit) > 1 else {}})
        else:
            out.append({"rule_id": hit.get("rule_id"), "inputs": hit.get("inputs") or {}})
    return out


def pack_prospect(snapshot: dict[str, Any], key: str, account_key: str | None) -> dict[str, Any]:
    """A prospect's encoding as `prospects.snapshot` stores it beside its key columns."""
    ref = snapshot.get("ref") or {}
    if f"{ref.get('system')}:{ref.get('kind')}:{ref.get('id')}" == key:
        snapshot = {k: v for k, v in snapshot.items() if k != "ref"}
    account = snapshot.get("account")
    if isinstance(account, dict):
        aref = account.get("ref") or {}
        if f"{aref.get('system')}:account:{aref.get('id')}" == account_key:
            snapshot = dict(snapshot)
            snapshot["account"] = {k: v for k, v in account.items() if k != "ref"}
    return snapshot


def unpack_prospect(snapshot: dict[str, Any], key: str, account_key: str | None) -> dict[str, Any]:
    """The prospect's encoding again (inverse of pack_prospect; older rows are whole)."""
    account = snapshot.get("account")
    if "ref" in snapshot and (not isinstance(account, dict) or "ref" in account):
        return snapshot
    full = dict(snapshot)
    if "ref" not in full:
        system, kind, ident = key.split(":", 2)
        full["ref"] = {"system": system, "kind": kind, "id": ident}
    if isinstance(account, dict) and "ref" not in account and account_key:
        system, _, ident = account_key.split(":", 2)
        full["account"] = {**account, "ref": {"system": system, "id": ident}}
    return full
