"""Does the account still fit the ideal customer profile?

Fit is the one thing besides an opt-out that ends a follow-up, so it is judged on known data
only: a missing employee count is "unknown", and the config decides whether unknown fits
(default: it does). Every failing or unknown criterion is named, so the audit record says
exactly why a prospect was dropped, and a later account update can bring them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncd.model import Account, ReasonKind
from syncd.policy.config import CustomPredicate, PolicyConfig
from syncd.policy.prepared import country_key, normalise_text


@dataclass(slots=True)
class FitResult:
    failing: tuple[str, ...]  # criteria failed on known data (or unknown, when unknown fails)
    unknown: tuple[str, ...]  # criteria with no data
    inputs: dict[str, Any]  # the account values the criteria looked at

    @property
    def fits(self) -> bool:
        return not self.failing


_FITS = FitResult((), (), {})


def _range(
    name: str,
    value: float | None,
    low: float | None,
    high: float | None,
    failing: list[str],
    unknown: list[str],
    inputs: dict[str, Any],
) -> None:
    if low is None and high is None:
        return
    inputs[name] = value
    if value is None:
        unknown.append(name)
    elif low is not None and value < low:
        failing.append(f"{name}.below_min")
        inputs.setdefault("why", []).append(f"{name} {value:g} < min {low:g}")
    elif high is not None and value > high:
        failing.append(f"{name}.above_max")
        inputs.setdefault("why", []).append(f"{name} {value:g} > max {high:g}")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


def _comparable(value: Any) -> Any:
    return normalise_text(value) if isinstance(value, str) else value


def _custom_holds(pred: CustomPredicate, value: Any) -> bool | None:
    """True / False on known data, None when the field's value can't be judged."""
    if pred.op == "exists":
        return value not in (None, "")
    if value is None or value == "":
        return None
    if pred.op in ("lt", "le", "gt", "ge"):
        number, bound = _as_number(value), _as_number(pred.value)
        if number is None or bound is None:
            return None
        return {
            "lt": number < bound,
            "le": number <= bound,
            "gt": number > bound,
            "ge": number >= bound,
        }[pred.op]
    got = _comparable(value)
    if pred.op in ("in", "not_in"):
        options = {_comparable(v) for v in pred.value} if isinstance(pred.value, list) else set()
        return (got in options) == (pred.op == "in")
    if pred.op == "contains":
        needle = _comparable(pred.value)
        if isinstance(value, list | tuple | set | frozenset):
            return needle in {_comparable(v) for v in value}
        return isinstance(got, str) and isinstance(needle, str) and needle in got
    equal = got == _comparable(pred.value)
    return equal if pred.op == "eq" else not equal


def evaluate_fit(
    account: Account | None, cfg: PolicyConfig, crm_reason: ReasonKind | None = None
) -> FitResult:
    """Judge the account against the ICP; `crm_reason` counts only if the config trusts it."""
    icp, prep = cfg.icp, cfg.prepared
    failing: list[str] = []
    unknown: list[str] = []
    inputs: dict[str, Any] = {}
    _range(
        "employees",
        account.employees if account else None,
        icp.min_employees,
        icp.max_employees,
        failing,
        unknown,
        inputs,
    )
    _range(
        "revenue",
        account.annual_revenue if account else None,
        icp.min_revenue,
        icp.max_revenue,
        failing,
        unknown,
        inputs,
    )
    if prep.industries or prep.excluded_industries:
        industry = account.industry if account else None
        inputs["industry"] = industry
        if not industry:
            unknown.append("industry")
        else:
            key = normalise_text(industry)
            if prep.industries and key not in prep.industries:
                failing.append("industry.not_listed")
            elif key in prep.excluded_industries:
                failing.append("industry.excluded")
    if prep.countries or prep.excluded_countries:
        country = account.country if account else None
        inputs["country"] = country
        if not country:
            unknown.append("country")
        else:
            key = country_key(country, prep.country_aliases)
            if prep.countries and key not in prep.countries:
                failing.append("country.not_listed")
            elif key in prep.excluded_countries:
                failing.append("country.excluded")
    for pred in icp.custom:
        value = account.custom.get(pred.field) if account else None
        inputs[f"custom.{pred.field}"] = value
        holds = _custom_holds(pred, value)
        if holds is None:
            unknown.append(f"custom.{pred.field}")
        elif not holds:
            failing.append(f"custom.{pred.field}.{pred.op}")
    if icp.trust_crm_not_a_fit and crm_reason is ReasonKind.NOT_A_FIT:
        inputs["crm_reason"] = crm_reason.value
        failing.append("crm_reason.not_a_fit")
    if not failing and not unknown:
        return FitResult((), (), inputs) if inputs else _FITS
    if not icp.unknown_is_fit:
        failing.extend(f"{name}.unknown" for name in unknown)
    return FitResult(tuple(failing), tuple(unknown), inputs)
