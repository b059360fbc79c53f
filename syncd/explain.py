"""`syncd explain PERSON`: why syncd did what it did for one person, from the state store.

The person is found by prospect key, e-mail address or CRM record id. The answer lists the
events read, every decision with its rule ids and the inputs each rule used, the plans and
each touch with its due date, its outbox state and the remote id it was written as. Only ids
are shown (an address is used to find the person, never printed). Nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

from syncd.clock import iso
from syncd.store import Store
from syncd.store.compact import unpack_plan_id, unpack_rules

MAX_INPUT = 60  # characters of one rule input shown in the text report


def explain(store: Store, term: str) -> list[dict[str, Any]]:
    """One record per matching prospect (several when an id exists in more than one shard)."""
    paused = store.paused()
    held = set(store.held_for_review())  # a reply a rep must read before any touch
    out = []
    for key in store.find_prospects(term):
        raw = store.prospect_record(key)
        prospect = raw["prospect"] or {}
        account = prospect.get("account_key")
        shard = prospect.get("shard")
        out.append(
            {
                "prospect": key,
                "shard": shard,
                "account": account,
                "latest_outcome": prospect.get("outcome"),
                "paused": _paused_by(paused, key, account, shard),
                "held_for_review": key in held,
                "suppressed": sorted(r["channel"] for r in raw["suppressions"]),
                "events": [_event(e) for e in raw["events"]],
                "decisions": [_audit(a) for a in raw["audit"] if a["kind"] == "decision"],
                "admin": [_audit(a) for a in raw["audit"] if a["kind"] != "decision"],
                "plans": [_plan(p, raw["touches"]) for p in raw["plans"]],
            }
        )
    return out


def _paused_by(paused: Any, key: str, account: str | None, shard: str | None) -> list[str]:
    by = []
    if key in paused.prospects:
        by.append("prospect")
    if account and account in paused.accounts:
        by.append(f"account {account}")
    if shard and shard in paused.shards:
        by.append(f"shard {shard}")
    return by


def _event(row: dict[str, Any]) -> dict[str, Any]:
    payload = row["payload"]
    reply = payload.get("reply") or {}
    return {
        "event_id": row["event_id"],
        "shard": row["shard"],
        "source": payload.get("source"),
        "occurred_at": iso(row["occurred_at"]),
        "processed_at": iso(row["processed_at"]),
        "reason": payload.get("reason") or payload.get("reason_raw"),
        "opportunity_id": payload.get("opportunity_id"),
        "intent": reply.get("intent"),
    }


def _audit(row: dict[str, Any]) -> dict[str, Any]:
    data = row["data"]
    if row["kind"] != "decision":
        return {"at": iso(row["at"]), "action": row["kind"], **data}
    return {
        "at": iso(row["at"]),
        "source": data.get("source"),  # the event decided, or "review" (the daily review)
        "outcome": data.get("outcome"),
        "plan_id": unpack_plan_id(data.get("plan_id"), row["subject"]),
        "rules": [
            {"rule": hit["rule_id"], "inputs": hit["inputs"]}
            for hit in unpack_rules(data.get("rules") or [])
        ],
    }


def _plan(row: dict[str, Any], touches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "plan_id": row["plan_id"],
        "status": row["status"],
        "generation": row["generation"],
        "created_at": iso(row["created_at"]),
        "callback_on": row["callback_on"],
        "touches": [_touch(tc) for tc in touches if tc["plan_id"] == row["plan_id"]],
    }


def _touch(row: dict[str, Any]) -> dict[str, Any]:
    touch = row["touch"]
    return {
        "seq": row["seq"],
        "kind": touch.get("kind"),
        "write": touch.get("write"),
        "due": row["due"],
        "rule": touch.get("rule_id"),
        "state": row["state"],  # planned | materialised | cancelled
        "note": row["note"],
        "outbox_key": row["outbox_key"],
        "outbox": row["status"],  # pending | inflight | in_doubt | done | dead | cancelled
        "attempts": row["attempts"],
        "remote_id": row["remote_id"],
    }


def describe(rule: dict[str, Any]) -> str:
    """`fit.not_a_fit: employees 7 < min 50`: the rule and the inputs it used, compactly."""
    inputs = rule["inputs"]
    if inputs.get("why"):
        return f"{rule['rule']}: {'; '.join(inputs['why'])}"
    parts = []
    for name, value in inputs.items():
        if value in (None, [], {}, ""):
            continue
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        parts.append(f"{name} {text[:MAX_INPUT]}")
    return f"{rule['rule']}: {', '.join(parts)}" if parts else str(rule["rule"])


def render(records: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for r in records:
        lines.append(f"prospect {r['prospect']} (shard {r['shard']}, account {r['account']})")
        lines.append(f"  latest outcome: {r['latest_outcome']}")
        if r["paused"]:
            lines.append(f"  PAUSED by {', '.join(r['paused'])}: no touch is written")
        if r["held_for_review"]:
            lines.append("  HELD FOR REVIEW: a rep must read their reply before any touch")
        if r["suppressed"]:
            lines.append(f"  opted out of: {', '.join(r['suppressed'])}")
        lines.append("  events:")
        for e in r["events"]:
            what = e["intent"] or e["reason"] or "-"
            lines.append(f"    {e['occurred_at']}  {e['event_id']}  {e['source']} ({what})")
        lines.append("  decisions:")
        for d in r["decisions"]:
            plan = f" -> plan {d['plan_id']}" if d["plan_id"] else ""
            lines.append(f"    {d['at']}  {d['source']}: {d['outcome']}{plan}")
            lines.extend(f"      {describe(rule)}" for rule in d["rules"])
        for a in r["admin"]:
            lines.append(f"  {a['at']}  {a['action']} ({a.get('scope')})")
        lines.append("  plans:")
        for p in r["plans"]:
            callback = f", call back {p['callback_on']}" if p["callback_on"] else ""
            lines.append(f"    {p['plan_id']}  {p['status']}{callback}")
            for tc in p["touches"]:
                written = f"{tc['outbox']} {tc['remote_id'] or ''}".strip() if tc["outbox"] else "-"
                note = f" ({tc['note']})" if tc["note"] else ""
                lines.append(
                    f"      {tc['seq']:>2} {tc['due']}  {tc['kind']:<16} {tc['write']:<8} "
                    f"{tc['state']}{note}  outbox: {written}  [{tc['rule']}]"
                )
        lines.append("")
    return "\n".join(lines)
