"""The review route in the policy: the task the owner gets, the hold, and its resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from syncd.model import (
    Channel,
    Intent,
    Outcome,
    Priority,
    RejectionEvent,
    TaskChannel,
    TouchKind,
    TouchRecord,
)
from syncd.policy import PolicyConfig, decide, review
from tests.unit.policy.factories import NOW, Engine, Person, lost_deal, person, reply

CFG = PolicyConfig()
LONG = "Ich weiß nicht recht. " * 200  # about 4,400 characters


def unsure(n: int = 1, **info: Any) -> RejectionEvent:
    values: dict[str, Any] = {
        "review": True,
        "review_reasons": ("conflicting_cues", "opt_out_net"),
        "confidence": 0.38,
        "evidence": ("not now", "stop"),
        "text": "Not now. Or maybe stop? Let me think.",
    }
    values.update(info)
    return reply(Intent.NOT_NOW, n, at=NOW - timedelta(hours=1), **values)


def test_the_review_task_quotes_the_reply_with_the_guess_and_how_to_resolve() -> None:
    """The owner reads the reply's own words, syncd's guess with its confidence and evidence,
    why it could not decide, and what each way of resolving it does."""
    decision = decide(unsure(), Engine().history(Engine().add(person())), CFG, NOW)
    assert decision.outcome is Outcome.REVIEW and decision.plan is not None
    (task,) = decision.plan.touches
    assert task.kind is TouchKind.REVIEW and task.priority is Priority.HIGH
    assert task.subject == "Read this reply from Pat Person1 and decide"
    assert "Not now. Or maybe stop? Let me think." in task.brief
    assert "intent: not_now, confidence 0.38" in task.brief
    assert "evidence: “not now”; “stop”" in task.brief
    assert "it says contradicting things" in task.brief
    assert "e-mail included" in task.brief
    assert "complete this task" in task.brief and "opt-out flag" in task.brief
    assert decision.hold is not None and decision.hold.email_held


def test_a_long_reply_is_quoted_up_to_the_configured_length() -> None:
    """The quote is cut at `review_quote_max_chars`, marked with an ellipsis."""
    cfg = PolicyConfig(brief={"review_quote_max_chars": 500})
    decision = decide(unsure(text=LONG), Engine().history(Engine().add(person())), cfg, NOW)
    assert decision.plan is not None
    brief = decision.plan.touches[0].brief
    assert LONG[:400] in brief and LONG not in brief and "…" in brief


def held() -> tuple[Engine, Person]:
    engine = Engine(CFG.horizon_days)
    who = engine.add(person())
    deal = lost_deal(who=who.prospect)
    engine.apply(deal, who, decide(deal, engine.history(who), CFG, NOW - timedelta(days=1)))
    engine.materialise(NOW.date())
    # a guessed "not now" with a date: a rep must read it before that date means anything
    event = unsure(followup_after=NOW.date() + timedelta(days=40))
    event = replace(event, stated_date=NOW.date() + timedelta(days=40))
    engine.apply(event, who, decide(event, engine.history(who), CFG, NOW))
    engine.materialise(NOW.date())
    return engine, who


def test_nothing_moves_while_held_even_past_the_old_call_back() -> None:
    """An unresolved hold: the daily review changes nothing, months later too."""
    engine, who = held()
    assert who.review is not None
    for days in (1, 30, 200, 400):
        assert review(engine.history(who), CFG, NOW + timedelta(days=days)) is None


def test_resolving_plans_again_from_that_day_as_a_plain_no() -> None:
    """The rep completed the task: a new plan from that day, no thank-you, and the guessed
    date of the reply is not used (the call-back is the base interval, not 40 days)."""
    engine, who = held()
    later = NOW + timedelta(days=10)
    history = engine.history(who)
    assert history.review is not None
    resolved = replace(history, review=replace(history.review, resolution="task_completed"))
    decision = review(resolved, CFG, later)
    assert decision is not None and decision.resolved == "task_completed"
    assert decision.outcome is Outcome.NURTURE and decision.plan is not None
    assert decision.plan.callback_on is not None
    assert decision.plan.callback_on > later.date() + timedelta(days=100)
    assert all(t.kind is not TouchKind.THANK_YOU for t in decision.plan.touches)
    assert all(t.due >= later.date() for t in decision.plan.touches)
    rules = [h.rule_id for h in decision.rules]
    assert rules[0] == "review.resolved" and "ack.skipped" in rules


def test_a_full_opt_out_flag_set_in_the_crm_ends_the_follow_up() -> None:
    """The rep set both opt-out flags: the plan ends, the hold with it."""
    engine, who = held()
    who.prospect = replace(who.prospect, opted_out=frozenset({Channel.EMAIL, Channel.PHONE}))
    history = engine.history(who)
    assert history.review is not None
    flagged = replace(history, review=replace(history.review, resolution="opt_out_flag"))
    decision = review(flagged, CFG, NOW + timedelta(days=2))
    assert decision is not None and decision.outcome is Outcome.OPTED_OUT
    assert decision.cancel_plan and decision.resolved == "opt_out_flag"


def test_a_possible_opt_out_reminds_the_rep_of_the_nurture_list() -> None:
    """The safety net fired and syncd enrolled them earlier: the task says to take them off
    the list if they asked not to be e-mailed (syncd holds only its own touches)."""
    engine = Engine()
    who = engine.add(person())
    enrolled = TouchRecord(TouchKind.ENROL, TaskChannel.TODO, NOW.date(), who.prospect.ref.key)
    history = replace(engine.history(who), touches=(enrolled,))
    decision = decide(unsure(), history, CFG, NOW)
    assert decision.plan is not None
    assert "take them off it" in decision.plan.touches[0].brief
    plain = decide(unsure(review_reasons=("no_cue",)), history, CFG, NOW)
    assert plain.plan is not None and "take them off it" not in plain.plan.touches[0].brief
