"""`syncd report`: what came back from the losses syncd nurtured, and what brought it back.

Re-engaged prospects and their new pipeline, grouped by the original loss reason, by the
last touch's kind and channel (last-touch attribution), by any touch's kind within the
attribution window (any-touch: one prospect counts once per kind it received), by worth
tier and by owner; the re-engagement rate over the prospects nurtured by the end of the
range; and the time from loss to re-engagement (median and 90th percentile, in days).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

NONE = "(none)"  # no touch was made before the re-engagement


def _group(
    rows: Sequence[Mapping[str, Any]], keys: Callable[[Mapping[str, Any]], Iterable[str]]
) -> list[dict[str, Any]]:
    """Count and amount per key; a row adds to every key it yields (once each)."""
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, float] = defaultdict(float)
    for row in rows:
        for key in set(keys(row)):
            count[key] += 1
            amount[key] += float(row.get("amount") or 0.0)
    return [
        {"key": k, "reengaged": count[k], "pipeline": round(amount[k], 2)}
        for k in sorted(count, key=lambda k: (-amount[k], -count[k], k))
    ]


def _last(row: Mapping[str, Any], field: str) -> list[str]:
    last = (row.get("attribution") or {}).get("last_touch")
    return [f"{last['kind']} ({last[field]})" if last else NONE]


def _any(row: Mapping[str, Any]) -> list[str]:
    touches = (row.get("attribution") or {}).get("any_touch") or []
    return [f"{t['kind']} [{t['rule']}]" for t in touches] or [NONE]


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (plain and reproducible; no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarise(
    rows: Sequence[Mapping[str, Any]], nurtured: int, since: datetime, until: datetime
) -> dict[str, Any]:
    days = [
        (r["occurred_at"] - r["lost_at"]).total_seconds() / 86400
        for r in rows
        if r.get("lost_at") is not None
    ]
    window = rows[0]["attribution"].get("window_days") if rows else None
    return {
        "from": since.date().isoformat(),
        "to": until.date().isoformat(),
        "reengaged": len(rows),
        "pipeline": round(sum(float(r.get("amount") or 0.0) for r in rows), 2),
        "nurtured": nurtured,
        "rate": round(len(rows) / nurtured, 4) if nurtured else None,
        "days_to_reengage": {
            "median": _round(percentile(days, 0.5)),
            "p90": _round(percentile(days, 0.9)),
        },
        "attribution_window_days": window,
        "by_loss_reason": _group(rows, lambda r: [str(r.get("loss_reason") or "unknown")]),
        "by_competitor": _group(rows, lambda r: [str(r.get("competitor") or NONE)]),
        "by_last_touch_channel": _group(rows, lambda r: _last(r, "channel")),
        "by_last_touch_rule": _group(rows, lambda r: _last(r, "rule")),
        "by_any_touch": _group(rows, _any),
        "by_worth_tier": _group(rows, lambda r: [str(r.get("worth_tier") or "unknown")]),
        "by_owner": _group(rows, lambda r: [str(r.get("owner_id") or NONE)]),
        "by_kind": _group(rows, lambda r: [str(r["kind"])]),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


_SECTIONS = (
    ("by_loss_reason", "by original loss reason"),
    ("by_competitor", "by competitor"),
    ("by_last_touch_channel", "by last touch (kind, channel)"),
    ("by_last_touch_rule", "by last touch (kind, rule that scheduled it)"),
    ("by_any_touch", "by any touch within the window (kind [rule])"),
    ("by_worth_tier", "by worth tier of the loss"),
    ("by_owner", "by owner"),
    ("by_kind", "by what showed it"),
)


def render(data: Mapping[str, Any]) -> str:
    rate = data["rate"]
    timing = data["days_to_reengage"]
    lines = [
        f"syncd report {data['from']} .. {data['to']}",
        "",
        f"re-engaged: {data['reengaged']} of {data['nurtured']} nurtured prospects"
        + (f" ({rate:.1%})" if rate is not None else ""),
        f"new pipeline: {data['pipeline']:,.2f}",
        f"days from loss to re-engagement: median {timing['median']}, p90 {timing['p90']}",
    ]
    for key, title in _SECTIONS:
        groups = data[key]
        if not groups:
            continue
        lines += ["", title]
        lines += [f"  {g['reengaged']:5d}  {g['pipeline']:>14,.2f}  {g['key']}" for g in groups]
    return "\n".join(lines)
