"""Human-readable renderings of cycle summaries and plans for the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
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


def plan(summaries: Mapping[str, CycleSummary], day: date) -> str:
    """`syncd plan`: the touches already planned that the day's cycle would write, then per
    new rejection the rules that fired and the touches, with dates."""
    lines = [f"syncd plan for {day.isoformat()} (dry run: nothing written, state unchanged)", ""]
    for name, s in summaries.items():
        lines.append(
            f"shard {name}: {s.events} new rejection(s); decisions: "
            + (", ".join(f"{k} {v}" for k, v in sorted(s.decisions.items())) or "none")
        )
        lines.append(held(s.held_for_review))
        if s.due or s.paused:
            lines.append(
                f"  already planned, written by this day's cycle: {len(s.due)}"
                + (f" ({s.paused} more held by a pause)" if s.paused else "")
            )
        for it in s.due:
            what = f"cancelled: {it['cancelled']}" if it["cancelled"] else f"-> {it['sink']}"
            lines.append(
                f"    {it['due']}  {it['kind']:<16} {it['write']:<8} {it['prospect']}  "
                f"{what}  [{it['rule']}]"
            )
        if s.planned:
            lines.append(f"  new rejections decided: {len(s.planned)}")
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


def plan_json(summaries: Mapping[str, CycleSummary], day: date) -> dict[str, Any]:
    return {
        "as_of": day.isoformat(),
        "shards": {
            name: {
                **s.as_dict(),
                "held_for_review": {
                    "count": len(s.held_for_review),
                    "prospects": s.held_for_review,
                },
                "due": s.due,
                "prospects": s.planned,
            }
            for name, s in summaries.items()
        },
    }


HELD_SHOWN = 20


def held(keys: list[str]) -> str:
    """The people held until a rep has read their reply: count and ids (never names)."""
    if not keys:
        return "  held for review: 0"
    shown = ", ".join(keys[:HELD_SHOWN])
    more = f" … and {len(keys) - HELD_SHOWN} more" if len(keys) > HELD_SHOWN else ""
    return f"  held for review: {len(keys)}: {shown}{more}"
