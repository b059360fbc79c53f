"""One test per rule the seed articles teach, as a rep or prospect would notice it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

from syncd.model import (
    Channel,
    History,
    Intent,
    Outcome,
    Priority,
    TaskChannel,
    TouchKind,
    TouchRecord,
    WriteKind,
)
from syncd.policy import PolicyConfig, decide, recheck, review
from tests.unit.policy.factories import (
    NOW,
    TODAY,
    Engine,
    account,
    contact_touches,
    lost_deal,
    of_kind,
    person,
    reply,
)

CFG = PolicyConfig()


def rule_ids(decision: object) -> list[str]:
    return [h.rule_id for h in decision.rules]  # type: ignore[attr-defined]


# --- "Say thank you" / "Take the time to acknowledge them" -----------------------------------


def test_a_lost_deal_is_thanked_by_a_task_the_next_business_day() -> None:
    """A closed-lost deal gets a thank-you e-mail task for the owner on the next business day."""
    decision = decide(lost_deal(), History(), CFG, NOW)
    (thanks,) = of_kind(decision, TouchKind.THANK_YOU)
    assert (thanks.write, thanks.channel, thanks.due) == (
        WriteKind.TASK,
        TaskChannel.EMAIL,
        date(2024, 3, 13),
    )
    assert "thank" in thanks.subject.lower()


def test_a_no_by_e_mail_is_thanked_by_a_draft_in_its_thread() -> None:
    """A reply saying no gets a thank-you draft addressed to them, not a rep's brief."""
    decision = decide(reply(Intent.NOT_INTERESTED), History(), CFG, NOW)
    (thanks,) = of_kind(decision, TouchKind.THANK_YOU)
    assert thanks.write is WriteKind.DRAFT and thanks.suppress_channel is Channel.EMAIL
    assert thanks.brief.startswith("Hi Pat,")
    assert "WHY THIS TOUCH NOW" not in thanks.brief and "rule" not in thanks.brief


def test_auto_replies_and_opt_outs_are_not_thanked() -> None:
    """Nobody thanks an auto-responder, or someone who asked to be left alone on e-mail."""
    auto = decide(reply(Intent.NOT_NOW, auto_reply=True), History(), CFG, NOW)
    opt_out = decide(
        reply(Intent.OPT_OUT, opt_out_channels=frozenset({Channel.EMAIL})), History(), CFG, NOW
    )
    assert of_kind(auto, TouchKind.THANK_YOU) == [] and auto.outcome is Outcome.AUTO_REPLY
    assert of_kind(opt_out, TouchKind.THANK_YOU) == []


# --- "Offer to stay in touch" / "Gently nurture" / "Use multiple approaches" ------------------


def test_between_thank_you_and_call_back_they_hear_from_us_gently_on_several_channels() -> None:
    """Nurture touches fill the months before the call-back, spaced and on changing channels."""
    decision = decide(lost_deal(amount=40_000.0), History(), CFG, NOW)
    plan = decision.plan
    assert plan is not None and plan.callback_on is not None
    nurture = [t for t in plan.touches if t.rule_id == "cadence.nurture"]
    assert len(nurture) >= 3
    assert len({t.channel for t in nurture}) >= 3
    assert TouchKind.HANDWRITTEN_NOTE in {t.kind for t in nurture}  # a high-worth account
    dues = sorted(t.due for t in contact_touches(plan))
    assert all(b - a >= timedelta(days=1) for a, b in pairwise(dues))
    nurture_dues = sorted(t.due for t in nurture)
    assert all((b - a).days >= CFG.cadence.min_gap_days for a, b in pairwise(nurture_dues))
    assert all(TODAY < t.due < plan.callback_on for t in nurture)
    assert all(a.channel != b.channel for a, b in pairwise(nurture))


def test_small_deals_get_no_handwritten_note() -> None:
    """Handwritten notes are kept for high-worth accounts."""
    decision = decide(lost_deal(amount=8_000.0), History(), CFG, NOW)
    assert of_kind(decision, TouchKind.HANDWRITTEN_NOTE) == []


def test_with_enrolment_on_a_nurtured_prospect_joins_the_nurture_list_once() -> None:
    """'Lead generation campaigns combined with prospecting': one enrolment write per no."""
    cfg = PolicyConfig(cadence={"enrol": True})
    decision = decide(lost_deal(), History(), cfg, NOW)
    (enrol,) = of_kind(decision, TouchKind.ENROL)
    assert enrol.write is WriteKind.ENROL and enrol.due == TODAY
    assert enrol.suppress_channel is Channel.EMAIL
    assert of_kind(decide(lost_deal(), History(), CFG, NOW), TouchKind.ENROL) == []
    no_email = person(opted_out=frozenset({Channel.EMAIL}))
    assert of_kind(decide(lost_deal(who=no_email), History(), cfg, NOW), TouchKind.ENROL) == []


# --- "Call again in about six months, depending on potential worth" ---------------------------


def test_the_call_back_is_about_six_months_out_and_sooner_for_bigger_deals() -> None:
    """182 days by default; a 250k deal is called after 91 days, a 2k one after 273."""
    callback: dict[float | None, date] = {}
    for amount in (None, 250_000.0, 2_000.0):
        plan = decide(lost_deal(amount=amount), History(), CFG, NOW).plan
        assert plan is not None and plan.callback_on is not None
        callback[amount] = plan.callback_on
    assert callback[None] == TODAY + timedelta(days=182)
    assert callback[250_000.0] < callback[None] < callback[2_000.0]


# --- "Don't self-sabotage: keep calling fitting prospects" / "hell no still gets the call" ----


def test_not_interested_and_unqualified_fitting_prospects_are_not_dropped() -> None:
    """Whatever the no, a prospect who fits the profile keeps a plan with a call-back."""
    for raw in ("Not interested", "UNQUALIFIED", "Price", "whatever the rep typed"):
        decision = decide(lost_deal(reason_raw=raw), History(), CFG, NOW)
        assert decision.outcome is Outcome.NURTURE, raw
        assert of_kind(decision, TouchKind.CALLBACK), raw


def test_missing_account_data_is_unknown_not_a_reason_to_drop() -> None:
    """No employee count on file: by default they still fit a size-bound profile."""
    cfg = PolicyConfig(icp={"min_employees": 50})
    who = person(acct=account(employees=None))
    decision = decide(lost_deal(who=who), History(), cfg, NOW)
    assert decision.outcome is Outcome.NURTURE
    fit = next(h for h in decision.rules if h.rule_id == "fit.ok")
    assert fit.inputs["unknown"] == ["employees"]


def test_a_hostile_no_still_gets_the_call_and_is_not_an_opt_out() -> None:
    """'No, never, I will die first' is hostile, not an opt-out: called back at the base date."""
    event = reply(Intent.NOT_INTERESTED, hostile=True, quote="No. Never. Don't waste my time.")
    decision = decide(event, History(), CFG, NOW)
    assert decision.outcome is Outcome.NURTURE and decision.suppress == frozenset()
    (callback,) = of_kind(decision, TouchKind.CALLBACK)
    assert callback.rule_id == "callback.hostile"
    assert callback.due == TODAY + timedelta(days=182)
    assert "Reason: hostile" in callback.brief


# --- "If they don't fit your profile, stop" ---------------------------------------------------


def test_a_prospect_outside_the_profile_is_dropped_with_the_failing_criteria() -> None:
    """Too small and in the wrong country: not a fit, the plan is cancelled, criteria named."""
    cfg = PolicyConfig(icp={"min_employees": 50, "countries": ["DE", "AT"]})
    who = person(acct=account(employees=12, country="US"))
    decision = decide(lost_deal(who=who), History(), cfg, NOW)
    assert decision.outcome is Outcome.NOT_A_FIT and decision.cancel_plan
    assert decision.plan is None
    (hit,) = [h for h in decision.rules if h.rule_id == "fit.not_a_fit"]
    assert hit.inputs["failing"] == ["employees.below_min", "country.not_listed"]
    assert hit.inputs["employees"] == 12


def test_a_dropped_prospect_returns_when_the_company_grows_into_the_profile() -> None:
    """`review` sees the account now has 80 employees and plans a new follow-up."""
    cfg = PolicyConfig(icp={"min_employees": 50})
    small = person(acct=account(employees=12))
    event = lost_deal(who=small)
    assert decide(event, History(), cfg, NOW).outcome is Outcome.NOT_A_FIT
    grown = replace(small, account=account(employees=80))
    later = NOW + timedelta(days=60)
    revived = review(History(prospect=grown, rejections=(event,)), cfg, later)
    assert revived is not None and revived.outcome is Outcome.NURTURE
    assert revived.plan is not None and revived.plan.callback_on is not None
    assert revived.plan.callback_on > later.date()
    assert rule_ids(revived)[0] == "review.fit.regained"
    assert all(t.seq >= 100 for t in revived.plan.touches)  # never a seq the store has seen


# --- "Befriend the gatekeeper" ----------------------------------------------------------------


def test_a_gatekeeper_reply_gets_a_rapport_task_asking_for_a_referral() -> None:
    """'I'll pass it on' from an assistant: a call task to build rapport and ask for a referral."""
    event = reply(Intent.NOT_INTERESTED, gatekeeper=True, quote="I'll pass it on to Pat.")
    decision = decide(event, History(), CFG, NOW)
    (task,) = of_kind(decision, TouchKind.GATEKEEPER)
    assert task.channel is TaskChannel.CALL and task.write is WriteKind.TASK
    assert "referral" in task.brief and "rapport" in task.brief.lower()
    assert decision.plan is not None and task.due < decision.plan.callback_on  # type: ignore[operator]


def test_a_no_from_a_receptionist_by_title_is_gatekeeper_handling_too() -> None:
    """The rejecting contact's title says 'Executive Assistant': gatekeeper handling applies."""
    who = person(title="Executive Assistant to the CEO")
    decision = decide(lost_deal(who=who), History(), CFG, NOW)
    assert len(of_kind(decision, TouchKind.GATEKEEPER)) == 1


# --- "It takes 9+ attempts" / "vendors change every 2-4 years" --------------------------------


def test_a_silent_fitting_prospect_hears_from_us_nine_times_and_the_follow_up_never_ends() -> None:
    """With daily reviews and no answer, touches keep coming past nine, cycle after cycle."""
    engine = Engine(CFG.horizon_days)
    who = engine.add(person())
    event = lost_deal(who=who.prospect)
    engine.apply(event, who, decide(event, engine.history(who), CFG, NOW))
    day = NOW
    for _ in range(400):
        day += timedelta(days=1)
        engine.materialise(day.date())
        revised = review(engine.history(who), CFG, day)
        if revised is not None:
            engine.apply(None, who, revised)
        assert who.plan is not None and who.plan.callback_on is not None
        assert who.plan.callback_on >= day.date()
    engine.materialise(day.date())
    made = [r for r in who.made if r.due <= day.date()]
    assert len(made) >= 9
    assert sum(1 for r in made if r.kind is TouchKind.CALLBACK) >= 2
    assert who.plan is not None and who.plan.generation == 1  # no new no: same generation


# --- "Look for a different opportunity" -------------------------------------------------------


def test_product_lines_not_offered_yet_are_cross_sell_angles_in_the_call_back_brief() -> None:
    """The account was offered Analytics; Payroll and Security are the angles to bring."""
    cfg = PolicyConfig(
        product_lines=[
            {"name": "Analytics"},
            {"name": "Payroll", "pitch": "for teams over 50"},
            {"name": "Security"},
        ]
    )
    who = person(acct=account(products_offered=frozenset({"analytics"})))
    decision = decide(lost_deal(who=who), History(), cfg, NOW)
    (callback,) = of_kind(decision, TouchKind.CALLBACK)
    assert (
        "Cross-sell, not offered to this account yet: Payroll (for teams over 50); Security."
        in (callback.brief)
    )
    assert "Analytics" not in callback.brief.split("ANGLE", 1)[1]
    hit = next(h for h in decision.rules if h.rule_id == "cross_sell.angles")
    assert hit.inputs == {"product_lines": ["Payroll", "Security"]}


# --- "Look for another entry point" -----------------------------------------------------------


def test_a_large_account_suggests_three_colleagues_from_other_departments() -> None:
    """At 800 employees: up to three colleagues, each from another department, none opted out."""
    big = account(employees=800)
    me = person(1, acct=big, department="Finance")
    colleagues = (
        person(2, acct=big, department="Finance", title="Controller"),  # same department
        person(3, acct=big, department="IT", title="CTO"),
        person(4, acct=big, department="IT", title="IT Manager"),  # IT already suggested
        person(5, acct=big, department="Operations", title="COO"),
        person(6, acct=big, department="Sales", opted_out=frozenset({Channel.EMAIL})),
        person(7, acct=big, department="HR", title="HR Lead"),
        person(8, acct=big, department="Legal", title="Counsel"),
    )
    history = History(prospect=me, colleagues=colleagues)
    decision = decide(lost_deal(who=me), history, CFG, NOW)
    entries = of_kind(decision, TouchKind.ENTRY_POINT)
    targets = [t.target.id for t in entries if t.target]
    assert len(targets) == 3
    departments = {c.ref.id: c.department for c in colleagues}
    assert len({departments[t] for t in targets}) == 3 and "Finance" not in {
        departments[t] for t in targets
    }
    assert "C0006" not in targets  # opted out of e-mail: never suggested
    assert all(t.rule_id == "entry_point.large_account" for t in entries)


def test_a_small_company_suggests_calling_the_owner_when_staff_said_no() -> None:
    """At 30 employees a buyer's no sends the rep to the founder, by phone."""
    small = account(employees=30)
    buyer = person(1, acct=small, title="Buyer")
    founder = person(2, acct=small, title="Founder & CEO")
    history = History(prospect=buyer, colleagues=(founder, person(3, acct=small, title="Intern")))
    (entry,) = of_kind(decide(lost_deal(who=buyer), history, CFG, NOW), TouchKind.ENTRY_POINT)
    assert entry.target == founder.ref and entry.channel is TaskChannel.CALL
    assert "call at the top" in entry.brief


def test_no_entry_point_when_the_owner_said_no_themselves() -> None:
    """The CEO of a small company said no: there is nobody above to go to."""
    small = account(employees=30)
    ceo = person(1, acct=small, title="CEO")
    history = History(prospect=ceo, colleagues=(person(2, acct=small, title="Founder"),))
    assert of_kind(decide(lost_deal(who=ceo), history, CFG, NOW), TouchKind.ENTRY_POINT) == []


# --- "Gently nurture ... isn't aggressive": the caps ------------------------------------------


def test_a_busy_account_week_pushes_the_thank_you_to_the_next_free_day() -> None:
    """Three touches at the account this week already: the thank-you waits for the window."""
    who = person()
    busy = tuple(
        TouchRecord(
            TouchKind.CALL, TaskChannel.CALL, TODAY + timedelta(days=d), f"crm:contact:X{d}"
        )
        for d in (0, 1, 2)  # Tue, Wed, Thu
    )
    history = History(prospect=who, account_touches=busy)
    decision = decide(lost_deal(who=who), history, CFG, NOW)
    (thanks,) = of_kind(decision, TouchKind.THANK_YOU)
    assert thanks.due == date(2024, 3, 19)  # the first day whose week holds fewer than three
    assert "cadence.cap.account" in rule_ids(decision)


def test_a_person_touched_twice_this_month_gets_nothing_more_within_the_window() -> None:
    """Touched on 21 Feb and 7 Mar: a third touch waits until 21 Feb leaves the 30-day window."""
    who = person()
    recent = tuple(
        TouchRecord(TouchKind.CALL, TaskChannel.CALL, TODAY - timedelta(days=d), who.ref.key)
        for d in (20, 5)
    )
    history = History(prospect=who, touches=recent, account_touches=recent)
    decision = decide(lost_deal(who=who), history, CFG, NOW)
    first = min(t.due for t in contact_touches(decision.plan))
    assert first == date(2024, 3, 22)  # 22 Feb - 22 Mar holds 7 Mar and this one: two
    assert "cadence.cap.person" in rule_ids(decision)


# --- "The product improved": the value-added return -------------------------------------------


def test_a_release_answering_their_words_brings_a_we_improved_touch_when_it_ships() -> None:
    """They said there was no SSO; the SSO release on 6 May 2024 brings a touch that day."""
    cfg = PolicyConfig(
        releases=[
            {
                "date": date(2024, 5, 6),
                "title": "SSO for every plan",
                "tags": ["sso"],
                "proof_point": "Acme cut login tickets by 80%",
            }
        ]
    )
    event = lost_deal(reason_raw="Other", quote="Without SSO we can't roll it out.")
    decision = decide(event, History(), cfg, NOW)
    (release,) = of_kind(decision, TouchKind.RELEASE)
    assert release.due == date(2024, 5, 6)
    assert "SSO for every plan" in release.subject and "Acme cut login tickets" in release.brief


def test_a_product_gap_is_called_back_when_the_release_ships() -> None:
    """A no for a missing feature is called back on the day the release answering it ships."""
    cfg = PolicyConfig(
        releases=[{"date": date(2024, 6, 3), "title": "Bulk import", "reasons": ["product_gap"]}]
    )
    decision = decide(lost_deal(reason_raw="Missing feature"), History(), cfg, NOW)
    assert decision.plan is not None and decision.plan.callback_on == date(2024, 6, 3)
    (callback,) = of_kind(decision, TouchKind.CALLBACK)
    assert callback.rule_id == "callback.product_gap.release"
    assert "Bulk import" in callback.subject
    assert of_kind(decision, TouchKind.RELEASE) == []  # the call-back is the "we improved" call


def test_a_release_added_to_the_config_later_reaches_already_nurtured_prospects() -> None:
    """`review` adds the "we improved" touch once the release appears, exactly once."""
    engine = Engine()
    who = engine.add(person())
    event = lost_deal(who=who.prospect, reason_raw="Price")
    engine.apply(event, who, decide(event, engine.history(who), CFG, NOW))
    cfg = PolicyConfig(
        releases=[{"date": date(2024, 5, 6), "title": "Usage pricing", "reasons": ["budget"]}]
    )
    later = NOW + timedelta(days=20)
    engine.materialise(later.date())
    revised = review(engine.history(who), cfg, later)
    assert revised is not None and revised.outcome is Outcome.NURTURE
    releases = of_kind(revised, TouchKind.RELEASE)
    assert [t.due for t in releases] == [date(2024, 5, 6)]
    assert releases[0].rule_id == "review.release.trigger"
    engine.apply(None, who, revised)
    assert review(engine.history(who), cfg, later) is None  # offered once, not every day


# --- "He didn't get much briefing on our history": the brief ----------------------------------


def test_the_brief_carries_their_history_words_and_why_this_touch_is_now() -> None:
    """A second no: the brief tells who, when, their words, reason, deal, history and angle."""
    big = account(employees=800, name="Acme GmbH")
    me = person(1, acct=big, name="Jane Doe", title="CFO", department="Finance")
    cto = person(2, acct=big, name="Bob Stone", title="CTO", department="IT")
    first = lost_deal(1, who=me, at=NOW - timedelta(days=200), reason_raw="BAD_TIMING")
    made = (
        TouchRecord(TouchKind.THANK_YOU, TaskChannel.EMAIL, date(2023, 8, 28), me.ref.key),
        TouchRecord(TouchKind.CALL, TaskChannel.CALL, date(2024, 1, 15), me.ref.key),
    )
    history = History(
        prospect=me, rejections=(first,), touches=made, account_touches=made, colleagues=(cto,)
    )
    event = lost_deal(
        2,
        who=me,
        reason_raw="Lost to Competitor",
        competitor="Globex",
        amount=120_000.0,
        currency="EUR",
        stage="Negotiation",
        quote="We went with   Globex, they were cheaper.",
    )
    decision = decide(event, history, CFG, NOW)
    (callback,) = of_kind(decision, TouchKind.CALLBACK)
    brief = callback.brief
    for expected in (
        "WHY THIS TOUCH NOW\nThey chose Globex",
        "(rule callback.competitor.renewal)",
        "Jane Doe (CFO, Finance) [crm:contact:C0001]",
        "Account: Acme GmbH",
        "When: 2024-03-12, closed-lost opportunity OPP2",
        "Deal: stage reached: Negotiation, amount: 120,000 EUR",
        "Reason: competitor (CRM value: Lost to Competitor); competitor: Globex",
        "Their words: “We went with Globex, they were cheaper.”",
        "Earlier rejections: 1 (last 2023-08-25: not_now)",
        "Touches so far: 2 (last 2024-01-15, call by call)",
        "Bob Stone (CTO, IT)",
        "ANGLE",
    ):
        assert expected in brief, expected
    assert decision.plan is not None and decision.plan.generation == 2


def test_a_second_no_updates_the_one_plan_instead_of_starting_another() -> None:
    """The call-back after the first no ends in another no: the same plan restarts its cycle."""
    engine = Engine()
    who = engine.add(person())
    first = lost_deal(1, who=who.prospect, reason_raw="BAD_TIMING")
    engine.apply(first, who, decide(first, engine.history(who), CFG, NOW))
    later = NOW + timedelta(days=91)
    engine.materialise(later.date())
    second = lost_deal(2, who=who.prospect, at=later - timedelta(hours=1))
    decision = decide(second, engine.history(who), CFG, later)
    assert decision.plan is not None and decision.plan.generation == 2
    hit = next(h for h in decision.rules if h.rule_id == "plan.update")
    assert hit.inputs["previous_generation"] == 1 and hit.inputs["earlier_rejections"] == 1
    engine.apply(second, who, decision)
    future = [r for r in engine.live() if r.due > later.date() + timedelta(days=8)]
    assert {t.due for t in decision.plan.touches if t.due > later.date() + timedelta(days=8)} == {
        r.due for r in future
    }  # only the new plan's touches lie ahead
    assert "Earlier rejections: 1" in of_kind(decision, TouchKind.CALLBACK)[0].brief


def test_briefs_and_subjects_stay_within_the_sinks_field_limits() -> None:
    """A novel-length quote and hundreds of colleagues still fit Salesforce's 32,000 chars."""
    big = account(employees=900, name="N" * 400)
    me = person(1, acct=big, name="Q" * 300)
    crowd = tuple(person(n, acct=big, name="C" * 200, department=f"D{n}") for n in range(2, 400))
    event = lost_deal(who=me, quote="word " * 20_000)
    cfg = PolicyConfig(brief={"max_colleagues": 400})
    decision = decide(event, History(prospect=me, colleagues=crowd), cfg, NOW)
    assert decision.plan is not None
    for touch in decision.plan.touches:
        assert len(touch.brief) <= 32_000 and len(touch.subject) <= 255
    quote_line = next(
        line
        for line in of_kind(decision, TouchKind.CALLBACK)[0].brief.splitlines()
        if line.startswith("Their words")
    )
    assert len(quote_line) < 700  # trimmed to quote_max_chars


# --- "The value of do not disturb" ------------------------------------------------------------


def test_an_e_mail_opt_out_is_written_back_and_only_e_mail_stops() -> None:
    """'Unsubscribe': the CRM flag is written, no e-mail touch remains, the call-back stays."""
    event = reply(Intent.OPT_OUT, opt_out_channels=frozenset({Channel.EMAIL}))
    decision = decide(event, History(), CFG, NOW)
    assert decision.suppress == frozenset({Channel.EMAIL})
    (write,) = [t for t in decision.plan.touches if t.write is WriteKind.OPT_OUT]  # type: ignore[union-attr]
    assert write.opt_out_channels == frozenset({Channel.EMAIL})
    assert all(t.suppress_channel is not Channel.EMAIL for t in contact_touches(decision.plan))
    (callback,) = of_kind(decision, TouchKind.CALLBACK)
    assert callback.channel is TaskChannel.CALL


def test_a_full_opt_out_ends_the_follow_up_and_writes_the_flags() -> None:
    """'Remove me from everything': all channels flagged, the plan cancelled, nothing else."""
    decision = decide(reply(Intent.OPT_OUT), History(), CFG, NOW)
    assert decision.outcome is Outcome.OPTED_OUT and decision.cancel_plan
    assert decision.plan is not None
    assert [t.kind for t in decision.plan.touches] == [TouchKind.OPT_OUT]
    assert decision.plan.touches[0].opt_out_channels == frozenset(Channel)


def test_flags_already_set_in_the_crm_are_honoured_without_writing_them_again() -> None:
    """A contact flagged 'do not call' in the CRM: no phone touches, no redundant write."""
    who = person(opted_out=frozenset({Channel.PHONE}))
    decision = decide(lost_deal(who=who), History(), CFG, NOW)
    assert decision.outcome is Outcome.NURTURE
    assert not [t for t in decision.plan.touches if t.write is WriteKind.OPT_OUT]  # type: ignore[union-attr]
    assert all(t.channel is not TaskChannel.CALL for t in decision.plan.touches)  # type: ignore[union-attr]
    assert of_kind(decision, TouchKind.CALLBACK)[0].channel is TaskChannel.EMAIL


def test_an_opt_out_after_planning_stops_the_touch_at_write_time() -> None:
    """A planned e-mail touch is cancelled by `recheck` once they opt out of e-mail."""
    who = person()
    decision = decide(lost_deal(who=who), History(), CFG, NOW)
    email_touch = next(
        t for t in contact_touches(decision.plan) if t.suppress_channel is Channel.EMAIL
    )
    later = History(prospect=who, suppressed=frozenset({Channel.EMAIL}))
    assert recheck(email_touch, later, CFG, NOW) == "suppressed.email"
    assert recheck(email_touch, History(prospect=who), CFG, NOW) is None


# --- Re-engagement ----------------------------------------------------------------------------


def test_an_interested_reply_stops_nurture_and_alerts_the_owner() -> None:
    """'Actually, let's talk': no nurture; one urgent, high-priority task for the owner now."""
    decision = decide(reply(Intent.INTERESTED, quote="Let's talk next week."), History(), CFG, NOW)
    assert decision.outcome is Outcome.ACTIVE and decision.cancel_plan
    (urgent,) = decision.plan.touches  # type: ignore[union-attr]
    assert urgent.kind is TouchKind.URGENT and urgent.priority is Priority.HIGH
    assert urgent.due == TODAY and "Let's talk next week." in urgent.brief
