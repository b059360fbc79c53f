"""Human-readable renderings of cycle summaries, plans and status for the terminal."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from syncd.engine import CycleSummary


def cycles(summaries: Mapping[str, CycleSummary], title: str = "syncd") -> str:
    lines = [title, ""]
    for name, s in summaries.items():
        w = s.writes
        lines.append(f"shard {name}: {s.events} new rejection(s), {s.skipped} already seen")
        if s.decisions:
            lines.append(
                "  decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(s.decisions.items()))
            )
        if s.rules:
            lines.append("  rules fired:")
            lines.extend(f"    {count:5d}  {rule}" for rule, count in s.rules.most_common())
        lines.append(f"  touches materialised {s.materialised}, cancelled {s.cancelled}")
        lines.append(
            f"  writes: ok {w.get('ok', 0)}, in doubt {w.get('in_doubt', 0)}, "
            f"dead {w.get('dead', 0)}, retry later {w.get('retry', 0)}"
        )
        lines.append("")
    return "\n".join(lines)


def plan(summaries: Mapping[str, CycleSummary]) -> str:
    """`syncd plan`: per prospect the rules that fired and the touches, with dates."""
    lines = ["syncd plan (dry run: nothing written, state unchanged)", ""]
    for name, s in summaries.items():
        lines.append(
            f"shard {name}: {s.events} rejection(s); decisions "
            + ", ".join(f"{k} {v}" for k, v in sorted(s.decisions.items()))
        )
        lines.append(_held(s.held_for_review))
        for item in s.planned:
            lines.append(
                f"  {item['prospect']}  {item['outcome']}  rules: {', '.join(item['rules'])}"
            )
            if item.get("owner"):
                lines.append(
                    f"    owner {item['owner']} ({item['owner_timezone']}, "
                    f"{str(item['owner_via']).replace('_', ' ')})"
                )
            for it in item["touches"]:
                flag = "write now" if it["now"] else "planned"
                lines.append(
                    f"    {it['due']}  {it['kind']:<16} {it['write']:<8} "
                    f"-> {it['sink'] or '(no sink)'}  [{it['rule']}] {flag}"
                )
        lines.append("")
    return "\n".join(lines)


def plan_json(summaries: Mapping[str, CycleSummary]) -> dict[str, Any]:
    return {
        "shards": {
            name: {
                **s.as_dict(),
                "held_for_review": {
                    "count": len(s.held_for_review),
                    "prospects": s.held_for_review,
                },
                "prospects": s.planned,
            }
            for name, s in summaries.items()
        }
    }


def status(rows: Mapping[str, Mapping[str, Any]]) -> str:
    lines = ["syncd status", ""]
    for name, row in rows.items():
        lines.append(f"shard {name}")
        lines.append(
            f"  cursor: {row['cursor'] or '(none yet)'}"
            + (f" (lag {row['cursor_lag_s']:.0f}s)" if row.get("cursor_lag_s") else "")
        )
        lines.append(
            f"  last cycle: {_ago(row.get('last_cycle_at'))}; "
            f"last success: {_ago(row.get('last_success_at'))}; "
            f"lease: {row.get('owner') or '-'}"
        )
        counts = Counter(row["outbox"])
        lines.append(
            "  outbox: "
            + ", ".join(
                f"{k} {counts.get(k, 0)}"
                for k in ("pending", "inflight", "in_doubt", "done", "dead", "cancelled")
            )
        )
        contactless = row.get("contactless") or {}
        if contactless:
            lines.append(
                f"  lost deals without contacts: {sum(contactless.values())} ("
                + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(contactless.items()))
                + ")"
            )
        lines.append(_held(row.get("held_for_review", {}).get("prospects", [])))
        for due, prospect, kind in row["next_due"]:
            lines.append(f"  next: {due} {kind} {prospect}")
        lines.append("")
    return "\n".join(lines)


HELD_SHOWN = 20


def _held(keys: list[str]) -> str:
    """The people held until a rep has read their reply: count and ids (never names)."""
    if not keys:
        return "  held for review: 0"
    shown = ", ".join(keys[:HELD_SHOWN])
    more = f" … and {len(keys) - HELD_SHOWN} more" if len(keys) > HELD_SHOWN else ""
    return f"  held for review: {len(keys)}: {shown}{more}"


def _ago(ts: float | None) -> str:
    if not ts:
        return "never"
    when = datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
    return f"{when} ({time.time() - ts:.0f}s ago)"
