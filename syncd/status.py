"""`syncd status`: what an admin checks each morning, from the state store alone.

Per shard: when it last read successfully and how old the newest record it has read is
(two different things: a quiet CRM has old records and a healthy reader), the last error
and whether the shard is stopped, the lease, the outbox, lost deals that named no contact,
the people held until a rep has read their reply, and the next touches; then what is paused
and the dead letters. Every time is ISO 8601 UTC; ages are seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncd import report
from syncd.clock import Clock, iso
from syncd.config import LoadedConfig
from syncd.store import Store


def collect(config: LoadedConfig, store: Store, clock: Clock) -> dict[str, Any]:
    now = clock()
    shards: dict[str, Any] = {}
    for name, shard_cfg in config.shards.items():
        row = store.shard_row(name) or {}
        cursor = store.cursor(name)
        held = store.held_for_review(name)  # people whose reply a rep must read first
        newest = _timestamp(cursor.value) if cursor else None
        shards[name] = {
            "enabled": shard_cfg.core.enabled,
            "state": _state(row),
            "last_read_at": iso(row.get("last_success_at")),
            "since_last_read_s": _age(now, row.get("last_success_at")),
            "cursor": cursor.value if cursor else None,
            "newest_record_at": newest.isoformat(timespec="seconds") if newest else None,
            "newest_record_age_s": round((now - newest).total_seconds()) if newest else None,
            "last_cycle_at": iso(row.get("last_cycle_at")),
            "last_error": (
                {"at": iso(row.get("last_error_at")), "error": row["last_error"]}
                if row.get("last_error")
                else None
            ),
            "failed_at": iso(row.get("failed_at")),
            "lease": {"owner": row.get("owner"), "until": iso(row.get("lease_until"))},
            "outbox": store.outbox_counts(name),
            # lost deals that named no contact, by the fallback that found someone
            "losses_without_contacts": store.contactless_counts(name),
            "held_for_review": {"count": len(held), "prospects": held},
            "next_due": [
                {"due": due, "prospect": prospect, "kind": kind}
                for due, prospect, kind in store.next_due(name)
            ],
        }
    paused = [
        {"scope": p.scope, "ref": p.ref, "since": iso(p.paused_at), "reason": p.reason}
        for p in store.pauses()
    ]
    dead = [
        {
            "at": iso(d["at"]),
            "shard": d["shard"],
            "kind": d["kind"],
            "ref": d["ref"],
            "error": d["error"],
        }
        for d in store.dead_letters()
    ]
    return {
        "at": now.isoformat(timespec="seconds"),
        "shards": shards,
        "failed_shards": sorted(n for n, s in shards.items() if s["state"] == "failed"),
        "paused": paused,
        "dead_letters": dead,
    }


def _state(row: dict[str, Any]) -> str:
    if row.get("failed_at"):
        return "failed"
    if not row.get("last_success_at"):
        return "never_run"
    return "ok"


def _age(now: datetime, ts: float | None) -> int | None:
    return None if ts is None else round(now.timestamp() - ts)


def _timestamp(value: str) -> datetime | None:
    """The cursor as a time when it is one (a mailbox's cursor is a history id)."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds} s"


def render(data: dict[str, Any]) -> str:
    lines = [f"syncd status at {data['at']}", ""]
    for name, s in data["shards"].items():
        flag = "" if s["enabled"] else " (disabled)"
        lines.append(f"shard {name}: {s['state'].upper().replace('_', ' ')}{flag}")
        lines.append(
            f"  last successful read: {s['last_read_at'] or 'never'}"
            f" ({_duration(s['since_last_read_s'])} ago)"
        )
        if s["newest_record_at"]:
            lines.append(
                f"  newest record read:   {s['newest_record_at']}"
                f" ({_duration(s['newest_record_age_s'])} old)"
            )
        else:
            lines.append(f"  cursor: {s['cursor'] or '(none yet)'}")
        if s["last_error"]:
            lines.append(f"  last error: {s['last_error']['at']}: {s['last_error']['error']}")
        lease = s["lease"]
        lines.append(f"  lease: {lease['owner'] or '-'} until {lease['until'] or '-'}")
        counts = s["outbox"]
        lines.append(
            "  outbox: "
            + ", ".join(
                f"{k} {counts.get(k, 0)}"
                for k in ("pending", "inflight", "in_doubt", "done", "dead", "cancelled")
            )
        )
        contactless = s["losses_without_contacts"]
        if contactless:
            lines.append(
                f"  lost deals without contacts: {sum(contactless.values())} ("
                + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(contactless.items()))
                + ")"
            )
        lines.append(report.held(s["held_for_review"]["prospects"]))
        for item in s["next_due"]:
            lines.append(f"  next: {item['due']} {item['kind']} {item['prospect']}")
        lines.append("")
    if data["failed_shards"]:
        lines.append("failed shards: " + ", ".join(data["failed_shards"]))
    lines.append(f"paused: {len(data['paused'])}")
    for p in data["paused"]:
        reason = f": {p['reason']}" if p["reason"] else ""
        lines.append(f"  {p['scope']} {p['ref']} since {p['since']}{reason}")
    lines.append(f"dead letters: {len(data['dead_letters'])}")
    for d in data["dead_letters"]:
        lines.append(f"  {d['at']} {d['kind']} {d['ref']} ({d['shard']}): {d['error']}")
    return "\n".join(lines)
