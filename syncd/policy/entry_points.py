"""Another way in: colleagues at large accounts, the top of small ones, the gatekeeper, referrals.

One person's no is not the account's no. At a large company other departments have other
needs; at a small one the owner sees things differently from their staff; an assistant who
passes messages on is worth befriending. Only colleagues who have not opted out of anything
are suggested, and never someone already contacted recently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from syncd.model import Prospect, ReplyInfo
from syncd.policy.config import PolicyConfig
from syncd.policy.prepared import normalise_text

_NOT_THE_TOP = re.compile(r"\b(?:vice|vp|deputy|assistant|assistent\w*|adjoint\w*|asistente)\b")


_TITLE_MEMO_LIMIT = 50_000


def _title_roles(title: str, cfg: PolicyConfig) -> tuple[bool, bool]:
    """(executive, gatekeeper) for a job title; remembered per config, titles repeat a lot."""
    prep = cfg.prepared
    roles = prep.titles.get(title)
    if roles is None:
        text = normalise_text(title)
        exec_pattern, gate_pattern = prep.executive_titles, prep.gatekeeper_titles
        executive = bool(
            exec_pattern and exec_pattern.search(text) and not _NOT_THE_TOP.search(text)
        )
        roles = (executive, bool(gate_pattern and gate_pattern.search(text)))
        if len(prep.titles) >= _TITLE_MEMO_LIMIT:
            prep.titles.clear()
        prep.titles[title] = roles
    return roles


def is_executive(title: str | None, cfg: PolicyConfig) -> bool:
    """Owner / CEO / founder / president (and their translations), not their deputies."""
    return bool(title) and _title_roles(title or "", cfg)[0]


def is_gatekeeper(prospect: Prospect, reply: ReplyInfo | None, cfg: PolicyConfig) -> bool:
    """The no came from someone who guards the door: flagged by the classifier or by title."""
    if reply is not None and reply.gatekeeper:
        return True
    return bool(prospect.title) and _title_roles(prospect.title or "", cfg)[1]


@dataclass(slots=True)
class Suggestion:
    rule_id: str  # entry_point.large_account / entry_point.small_account
    colleagues: tuple[Prospect, ...]
    inputs: dict[str, Any]


def suggest_colleagues(
    prospect: Prospect,
    employees: int | None,
    colleagues: tuple[Prospect, ...],
    excluded: frozenset[str],
    cfg: PolicyConfig,
) -> Suggestion | None:
    """Other contacts worth a touch, or None when the account size calls for none.

    `excluded` holds prospect keys not to suggest: people on the same lost deal and people
    touched recently.
    """
    ep = cfg.entry_points
    if employees is None or ep.max_suggestions == 0:
        return None
    candidates = [
        c
        for c in colleagues
        if c.ref != prospect.ref and not c.opted_out and c.ref.key not in excluded
    ]
    if employees >= ep.large_account_min_employees:
        own = normalise_text(prospect.department) if prospect.department else None
        seen: set[str] = set()
        picked: list[Prospect] = []
        ranked = sorted(
            (c for c in candidates if c.department),
            key=lambda c: (
                not is_executive(c.title, cfg),
                normalise_text(c.department or ""),
                c.ref.key,
            ),
        )
        for colleague in ranked:
            department = normalise_text(colleague.department or "")
            if department == own or department in seen:
                continue
            seen.add(department)
            picked.append(colleague)
            if len(picked) == ep.max_suggestions:
                break
        if not picked:
            return None
        return Suggestion(
            "entry_point.large_account",
            tuple(picked),
            {
                "employees": employees,
                "own_department": prospect.department,
                "suggested": [c.ref.key for c in picked],
            },
        )
    if employees < ep.small_account_below_employees and not is_executive(prospect.title, cfg):
        tops = sorted(
            (c for c in candidates if is_executive(c.title, cfg)), key=lambda c: c.ref.key
        )
        if not tops:
            return None
        return Suggestion(
            "entry_point.small_account",
            (tops[0],),
            {"employees": employees, "suggested": [tops[0].ref.key]},
        )
    return None


def referral_target(email: str, colleagues: tuple[Prospect, ...]) -> Prospect | None:
    """The referred person when the directory already knows them."""
    wanted = email.strip().casefold()
    return next(
        (c for c in colleagues if c.email and c.email.strip().casefold() == wanted),
        None,
    )
