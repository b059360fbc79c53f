"""The `[policy]` section: POLICY.md's defaults, strict validation, the reason mapping, the ICP."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from syncd.model import Account, AccountRef, History, Outcome, ReasonKind
from syncd.policy import PolicyConfig, decide
from syncd.policy.fit import evaluate_fit
from syncd.policy.reasons import map_reason_text
from tests.unit.policy.factories import NOW, account, lost_deal, person

EXAMPLE = Path(__file__).parents[3] / "config" / "syncd.example.toml"


def test_defaults_are_the_values_policy_md_states() -> None:
    """Out of the box the policy behaves as documented, with no [policy] section at all."""
    cfg = PolicyConfig()
    assert cfg.horizon_days == 7 and cfg.ack_delay_business_days == 1
    cb = cfg.callback
    assert (cb.base_days, cb.not_now_days, cb.no_decision_days) == (182, 90, 90)
    assert (cb.min_days, cb.max_days) == (45, 365)
    tiers = [(t.at_least, t.below, t.factor) for t in cb.worth_tiers]
    assert tiers == [(100_000, None, 0.5), (25_000, None, 0.75), (None, 5_000, 1.5)]
    assert (cb.competitor_check_in_days, cb.competitor_contract_months) == (90, 12)
    assert cb.competitor_renewal_lead_days == 60 and cb.fiscal_year_start_month == 1
    cad = cfg.cadence
    assert (cad.min_gap_days, cad.max_per_person, cad.person_window_days) == (21, 2, 30)
    assert (cad.max_per_account, cad.account_window_days) == (3, 7)
    ep = cfg.entry_points
    assert (ep.large_account_min_employees, ep.small_account_below_employees) == (500, 50)
    assert ep.max_suggestions == 3 and cfg.icp.unknown_is_fit
    assert cfg.brief.max_chars == 32_000 and cfg.brief.subject_max_chars == 255


def test_the_example_config_shows_every_default_and_nothing_else() -> None:
    """The documented [policy] block parses and equals the built-in defaults."""
    section = tomllib.loads(EXAMPLE.read_text())["policy"]
    assert PolicyConfig(**section) == PolicyConfig()


def test_the_example_config_documents_every_key() -> None:
    """Every setting of the model appears in the example, set or shown in a comment."""
    text = EXAMPLE.read_text()

    def settings(model: type[Any], path: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, info in model.model_fields.items():
            inner = info.annotation
            if isinstance(inner, type) and hasattr(inner, "model_fields"):
                out += settings(inner, f"{path}.{name}")
            else:
                out.append((path, name))
        return out

    def shown(path: str, name: str) -> bool:
        as_key = re.search(rf"^(# )?{re.escape(name)} =", text, re.M)
        as_table = re.search(rf"^(# )?\[\[?{re.escape(path)}\.{re.escape(name)}\]", text, re.M)
        return bool(as_key or as_table)

    assert [f"{p}.{n}" for p, n in settings(PolicyConfig, "policy") if not shown(p, n)] == []


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"horizon_dayz": 7}, "Extra inputs are not permitted"),
        ({"callback": {"min_days": 400}}, "min_days must not exceed max_days"),
        ({"cadence": {"steps": ["call", "callback"]}}, "not nurture steps"),
        ({"calendar": {"weekend": [7]}}, "weekend days are 0 (Monday) to 6 (Sunday)"),
        ({"releases": [{"date": "2024-05-01", "title": "X"}]}, "needs `reasons` or `tags`"),
        (
            {"releases": [{"date": "2024-05-01", "title": "X", "tags": ["a"]}] * 2},
            "release titles must be unique",
        ),
        ({"brief": {"draft_template": "Hi {name}"}}, "may use only {first_name_sp}"),
        ({"icp": {"custom": [{"field": "Segment", "op": "in", "value": "SMB"}]}}, "list value"),
        ({"callback": {"worth_tiers": [{"factor": 0.5}]}}, "needs `at_least` or `below`"),
        ({"reasons": {"values": {"lost": "lost_forever"}}}, "Input should be"),
    ],
)
def test_a_wrong_setting_is_refused_with_a_reason(section: dict[str, Any], problem: str) -> None:
    """Typos and impossible values fail at load time, never silently mid-cycle."""
    with pytest.raises(ValidationError) as info:
        PolicyConfig(**section)
    assert problem in str(info.value)


def test_the_config_is_frozen() -> None:
    """Nothing can change the policy behind the engine's back."""
    cfg = PolicyConfig()
    with pytest.raises(ValidationError):
        cfg.horizon_days = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Lost to Competitor", ReasonKind.COMPETITOR),
        ("LOST_TO_COMPETITOR", ReasonKind.COMPETITOR),
        ("lost-to-competitor ", ReasonKind.COMPETITOR),
        ("BAD_TIMING", ReasonKind.NOT_NOW),
        ("Pricing too high", ReasonKind.BUDGET),  # keyword
        ("Went dark after demo", ReasonKind.NO_DECISION),  # keyword
        ("Missing Salesforce integration", ReasonKind.PRODUCT_GAP),  # keyword
        ("UNQUALIFIED", ReasonKind.OTHER),
    ],
)
def test_crm_reason_values_map_whatever_their_case_and_separators(
    raw: str, expected: ReasonKind
) -> None:
    """Salesforce picklist labels and HubSpot enum values land on the same reasons."""
    mapped = map_reason_text(raw, PolicyConfig())
    assert mapped is not None and mapped[0] is expected


def test_an_unknown_reason_uses_the_fallback_and_admins_can_teach_their_picklist() -> None:
    """'Reorg' means nothing by default; one line of config makes it 'not now'."""
    assert map_reason_text("Reorg", PolicyConfig()) is None
    default = decide(lost_deal(reason_raw="Reorg"), History(), PolicyConfig(), NOW)
    hit = next(h for h in default.rules if h.rule_id == "reason.resolved")
    assert hit.inputs["reason"] == "other" and hit.inputs["source"] == "fallback"
    taught = PolicyConfig(reasons={"values": {"reorg": "not_now"}})
    decision = decide(lost_deal(reason_raw="REORG"), History(), taught, NOW)
    assert "callback.not_now" in [h.rule_id for h in decision.rules]


def _acct(**custom: Any) -> Account:
    return Account(AccountRef("crm", "A1"), employees=100, custom=custom)


@pytest.mark.parametrize(
    ("predicate", "custom", "fits", "unknown"),
    [
        (
            {"field": "Segment", "op": "in", "value": ["SMB", "Mid-Market"]},
            {"Segment": "smb"},
            True,
            False,
        ),
        (
            {"field": "Segment", "op": "in", "value": ["SMB"]},
            {"Segment": "Enterprise"},
            False,
            False,
        ),
        (
            {"field": "Segment", "op": "not_in", "value": ["Public"]},
            {"Segment": "Public"},
            False,
            False,
        ),
        ({"field": "Seats", "op": "ge", "value": 20}, {"Seats": "35"}, True, False),
        ({"field": "Seats", "op": "ge", "value": 20}, {"Seats": 5}, False, False),
        ({"field": "Seats", "op": "ge", "value": 20}, {}, True, True),
        ({"field": "Partner", "op": "exists"}, {}, False, False),
        (
            {"field": "Stack", "op": "contains", "value": "sap"},
            {"Stack": ["SAP", "AWS"]},
            True,
            False,
        ),
        ({"field": "Region", "op": "ne", "value": "APAC"}, {"Region": "EMEA"}, True, False),
    ],
)
def test_custom_field_predicates_judge_known_data_and_report_unknown(
    predicate: dict[str, Any], custom: dict[str, Any], fits: bool, unknown: bool
) -> None:
    """Custom ICP fields compare case-insensitively; a missing value is unknown, not a failure."""
    cfg = PolicyConfig(icp={"custom": [predicate]})
    result = evaluate_fit(_acct(**custom), cfg)
    assert result.fits is fits
    assert bool(result.unknown) is unknown


def test_unknown_can_be_configured_to_count_as_no_fit() -> None:
    """With unknown_is_fit = false a missing employee count drops the prospect, named so."""
    cfg = PolicyConfig(icp={"min_employees": 10, "unknown_is_fit": False})
    who = person(acct=account(employees=None))
    decision = decide(lost_deal(who=who), History(), cfg, NOW)
    assert decision.outcome is Outcome.NOT_A_FIT
    hit = next(h for h in decision.rules if h.rule_id == "fit.not_a_fit")
    assert hit.inputs["failing"] == ["employees.unknown"]


def test_a_reps_not_a_fit_counts_only_when_the_config_trusts_it() -> None:
    """'Not a fit' typed by a rep ends the follow-up only with trust_crm_not_a_fit = true."""
    event = lost_deal(reason_raw="Not a fit")
    assert decide(event, History(), PolicyConfig(), NOW).outcome is Outcome.NURTURE
    trusting = PolicyConfig(icp={"trust_crm_not_a_fit": True})
    assert decide(event, History(), trusting, NOW).outcome is Outcome.NOT_A_FIT
